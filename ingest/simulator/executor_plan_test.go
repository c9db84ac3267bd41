package simulator

import (
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/processor/sla/policy"
)

// TestExecutorsKeepOfficeHours: an appeal whose deadline counts working hours is taken and resolved in
// the calendar's working time only; the others round the clock.
func TestExecutorsKeepOfficeHours(t *testing.T) {
	pcfg := policy.DefaultConfig()
	pcfg.Rules = []policy.Rule{{Source: "pos", Duration: 24 * time.Hour, WorkingHours: new(true)}}
	pol, err := policy.New(pcfg)
	if err != nil {
		t.Fatal(err)
	}
	msk := time.FixedZone("MSK", 3*3600)
	friday := time.Date(2026, 11, 20, 17, 50, 0, 0, msk)
	for _, c := range []struct {
		source, status string
		office         bool
	}{
		{"pos", "assigned", true}, {"pos", "in_work", true}, {"vk", "assigned", false}, {"vk", "in_work", false},
	} {
		x, err := NewExecutors(ExecutorConfig{BaseURL: "http://unused", CuratorToken: "c", AgencyToken: func(string) string { return "a" },
			Reassign: func(string, string, string) string { return "" }, Seed: 3, Calendar: pol.Calendar(), WorksInHours: pol.WorkingHours})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 40 {
			id := c.source + ":" + string(rune('a'+i))
			tr := &tracked{st: appealState{AppealID: id, Source: c.source, Category: "ЖКХ", Agency: "Управление благоустройства города",
				Status: c.status, Received: friday, Updated: friday, Deadline: friday.Add(24 * time.Hour)}}
			x.known[id] = tr
			x.planNext(tr, friday)
		}
		weekend := 0
		for _, a := range x.plan {
			if a.kind == "assign" {
				continue
			}
			at := a.at.In(msk)
			off := at.Weekday() == time.Saturday || at.Weekday() == time.Sunday || at.Hour() < 9 || at.Hour() >= 18
			if off && c.office {
				t.Errorf("%s %s: %s planned for %s, outside working hours", c.source, c.status, a.kind, at)
			}
			if off {
				weekend++
			}
		}
		if !c.office && weekend == 0 {
			t.Errorf("%s %s: every action fell in working hours; the round-the-clock agencies did not show", c.source, c.status)
		}
	}
}
