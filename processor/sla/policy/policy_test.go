package policy

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPolicyDeadline(t *testing.T) {
	yes := true
	p, err := New(Config{Default: 8 * time.Hour, AtRiskBefore: 2 * time.Hour, Rules: []Rule{
		{Source: "pos", Duration: 24 * time.Hour},
		{Category: "ЖКХ", Duration: 4 * time.Hour},
		{Source: "pos", Category: "ЖКХ", Duration: 2 * time.Hour},
		{Category: "Дороги", Duration: 8 * time.Hour, WorkingHours: &yes},
	}})
	if err != nil {
		t.Fatal(err)
	}
	from := msk(t, "2026-03-13 17:00") // Friday
	cases := []struct {
		source, category string
		want             time.Time
	}{
		{"vk", "Прочее", from.Add(8 * time.Hour)},
		{"pos", "Прочее", from.Add(24 * time.Hour)},
		{"vk", "ЖКХ", from.Add(4 * time.Hour)},
		{"pos", "ЖКХ", from.Add(2 * time.Hour)},
		{"vk", "Дороги", msk(t, "2026-03-16 16:00")},
	}
	for _, c := range cases {
		t.Run(c.source+"/"+c.category, func(t *testing.T) {
			if got := p.Deadline(from, c.source, c.category); !got.Equal(c.want) {
				t.Fatalf("deadline %s, want %s", got, c.want)
			}
		})
	}
	if got := p.AtRisk(from); !got.Equal(from.Add(-2 * time.Hour)) {
		t.Fatalf("at risk %s", got)
	}
}

func TestLoadDeployFile(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "..", "deploy", "sla.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Default != 8*time.Hour {
		t.Fatalf("default %s, want 8h", c.Default)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("default: -1h\nrules:\n  - source: vk\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil {
		t.Fatal("a negative default and a rule without duration must be refused")
	}
}
