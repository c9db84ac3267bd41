package policy

import (
	"testing"
	"time"
)

func TestPolicyWorkingHours(t *testing.T) {
	yes, no := true, false
	p, err := New(Config{Default: 8 * time.Hour, WorkingHours: true, Rules: []Rule{
		{Source: "112", Duration: 4 * time.Hour, WorkingHours: &no},
		{Category: "Дороги", Duration: 16 * time.Hour, WorkingHours: &yes},
		{Source: "112", Category: "Дороги", Duration: 2 * time.Hour, WorkingHours: &no},
		{Source: "vk", Duration: 8 * time.Hour},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		source, category string
		want             bool
	}{
		{"nashdom", "Прочее", true}, // the file's default
		{"112", "Прочее", false},
		{"112", "Дороги", false},
		{"vk", "Дороги", true},
		{"vk", "Прочее", true}, // a rule without working_hours inherits the file's
	} {
		if got := p.WorkingHours(c.source, c.category); got != c.want {
			t.Errorf("%s/%s: working hours %v, want %v", c.source, c.category, got, c.want)
		}
	}
	if p.Calendar() == nil {
		t.Error("no calendar")
	}
}
