package plugin_test

import (
	"testing"
	"time"
)

// The region's calendar in the plugin: an appeal at 00:30 MSK on 1 January 2027 (21:30 UTC on 31
// December) is in day 2027-01-01, month 2027-01 and year 2027; one at 23:30 MSK on 31 December is in 2026.
// `now-1y/y` for 2027 in Moscow is aligned to local days, so planning has no ghost row of 2026, the heat
// map of the first January week does not reach back into 31 December, and a day series puts each appeal
// on its own local day.
func TestRegionsCalendar(t *testing.T) {
	h := newHarness(t, false, nil)
	newYear := time.Date(2027, 1, 1, 0, 30, 0, 0, msk)
	oldYear := time.Date(2026, 12, 31, 23, 30, 0, 0, msk)
	insertAppeals(t, h.conn, []appeal{
		rya("vk:new", ryazan, "ЖКХ", "Отопление", "ГЖИ", "vk", newYear),
		rya("vk:old", ryazan, "ЖКХ", "Отопление", "ГЖИ", "vk", oldYear),
	})
	y2027, y2028 := time.Date(2027, 1, 1, 0, 0, 0, 0, msk), time.Date(2028, 1, 1, 0, 0, 0, 0, msk)
	localDay := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, msk).UTC() }

	t.Run("planning: now-1y/y has only 2027", func(t *testing.T) {
		frames := h.run(y2027, y2028, oneDay, q{"queryType": "planning", "groupBy": "none"})
		sameRows(t, "yearly", rows(frames[1]), [][]any{{int64(2027), "", "Всего", int64(1), int64(1), 0.0}})
		sameRows(t, "monthly", rows(frames[0]), [][]any{
			{localDay(2027, 1, 1), "", "Всего", int64(1), int64(0), nil},
			{localDay(2027, 12, 1), "", "Всего", int64(0), int64(1), -100.0}, // last December, reported against this one
		})
	})
	t.Run("heat map of the first week of 2027", func(t *testing.T) {
		f := h.run(y2027, y2027.AddDate(0, 0, 7), oneDay, q{"queryType": "heatmap", "baselineDays": 7})[0]
		for _, r := range rows(f) {
			if r[0] == ryazan && (r[5] != int64(1) || r[6] != int64(1)) {
				t.Fatalf("Рязань: %d in the week, %d in the baseline week, want 1 and 1", r[5], r[6])
			}
		}
	})
	t.Run("day series: each appeal on its local day", func(t *testing.T) {
		f := h.run(time.Date(2026, 12, 25, 0, 0, 0, 0, msk), time.Date(2027, 1, 5, 0, 0, 0, 0, msk), oneDay,
			q{"queryType": "timeseries", "groupBy": "none"})[0]
		got := map[time.Time]int64{}
		for i := 0; i < f.Rows(); i++ {
			if v := f.Fields[1].At(i).(int64); v != 0 {
				got[f.Fields[0].At(i).(time.Time).UTC()] = v
			}
		}
		if len(got) != 2 || got[localDay(2026, 12, 31)] != 1 || got[localDay(2027, 1, 1)] != 1 {
			t.Fatalf("non-zero days %v, want 1 on 2026-12-31 and 1 on 2027-01-01 (Moscow midnights)", got)
		}
	})
}
