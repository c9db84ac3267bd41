package report_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/sla/report"
)

func TestRollupsAndCuratorReport(t *testing.T) {
	ch, _ := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	type ap struct {
		id, agency, status, mun string
		recv, dl, res           time.Duration // relative to now
		version                 uint64
	}
	aps := []ap{
		{"a1", "ЖКХ", "resolved", "г. Рязань", -10 * time.Hour, -2 * time.Hour, -8 * time.Hour, 3}, // on time, 2h
		{"a2", "ЖКХ", "resolved", "г. Рязань", -11 * time.Hour, -3 * time.Hour, -1 * time.Hour, 3}, // late, 10h
		{"a3", "ЖКХ", "in_work", "г. Сасово", -9 * time.Hour, -1 * time.Hour, 0, 2},                // overdue open
		{"a4", "ЖКХ", "assigned", "г. Сасово", -7 * time.Hour, time.Hour, 0, 1},                    // at risk
		{"a5", "Дороги", "assigned", "", -time.Hour, 7 * time.Hour, 0, 1},                          // fine
		{"a6", "", "returned", "г. Рязань", -9 * time.Hour, -time.Hour, 0, 2},                      // overdue, with curators
		{"old", "ЖКХ", "assigned", "г. Рязань", -72 * time.Hour, -64 * time.Hour, 0, 1},            // before --since
	}
	b, err := ch.PrepareBatch(ctx, "INSERT INTO appeal_sla (appeal_id, region, oktmo, category, source, agency, status, received_time, deadline, resolved_time, breached, updated_time, version)")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range aps {
		// an older version that FINAL must hide
		_ = b.Append(a.id, "RU-RYA", "61701000", "ЖКХ", "vk", "старое", "assigned", now.Add(a.recv), now.Add(a.dl), time.Unix(0, 0), uint8(0), now, uint64(0))
		res := time.Unix(0, 0)
		if a.status == "resolved" {
			res = now.Add(a.res)
		}
		if err := b.Append(a.id, "RU-RYA", "61701000", "ЖКХ", "vk", a.agency, a.status, now.Add(a.recv), now.Add(a.dl), res, uint8(0), now, a.version); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	b, _ = ch.PrepareBatch(ctx, "INSERT INTO appeal_sla_extra (appeal_id, municipality, theme, at_risk, version)")
	for _, a := range aps {
		_ = b.Append(a.id, a.mun, "", uint8(0), a.version)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	since := now.Add(-24 * time.Hour)
	rows, err := report.Rollup(ctx, ch, report.ByAgency, since, now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]report.Row{}
	for _, r := range rows {
		got[r.Key] = r
	}
	z := got["ЖКХ"]
	if z.Received != 4 || z.Resolved != 2 || z.ResolvedOnTime != 1 || z.OverdueOpen != 1 || len(rows) != 3 {
		t.Fatalf("rollup %+v", rows)
	}
	if share := z.OnTimeShare(); share < 0.333 || share > 0.334 {
		t.Fatalf("on-time share %v, want 1/3 (open overdue in the denominator)", share)
	}
	if z.Median < 2*time.Hour || z.Median > 10*time.Hour || z.P90 < z.Median {
		t.Fatalf("median %s p90 %s", z.Median, z.P90)
	}
	for _, dim := range []report.Dimension{report.ByMunicipality, report.ByCategory, report.BySource, report.ByDay} {
		rows, err := report.Rollup(ctx, ch, dim, since, now)
		if err != nil || len(rows) == 0 {
			t.Fatalf("%s: %v %v", dim, rows, err)
		}
		var n uint64
		for _, r := range rows {
			n += r.Received
		}
		if n != 6 {
			t.Fatalf("%s: %d appeals, want 6", dim, n)
		}
	}
	ags, err := report.Curators(ctx, ch, since, now, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := report.Print(&buf, ags, now, time.UTC); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"ЖКХ: просрочено 1, под угрозой 1", "a3", "a4", "(у кураторов — не назначено): просрочено 1", "a6"} {
		if !strings.Contains(out, want) {
			t.Fatalf("report lacks %q:\n%s", want, out)
		}
	}
	for _, not := range []string{"a1", "a5", "old"} {
		if strings.Contains(out, not+" ") || strings.Contains(out, not+"\t") {
			t.Fatalf("report has %q:\n%s", not, out)
		}
	}
	t.Log("\n" + out)
}

// Days of receipt are the region's: an appeal received at 00:30 MSK on 1 January 2027 (21:30 UTC on 31
// December) is in 2027-01-01, one at 23:30 MSK on 31 December in 2026-12-31.
func TestDaysAreTheRegions(t *testing.T) {
	ch, _ := testenv.ClickHouse(t)
	ctx := context.Background()
	b, err := ch.PrepareBatch(ctx, "INSERT INTO appeal_sla (appeal_id, region, oktmo, category, source, agency, status, received_time, deadline, resolved_time, breached, updated_time, version)")
	if err != nil {
		t.Fatal(err)
	}
	for id, recv := range map[string]time.Time{
		"new": time.Date(2026, 12, 31, 21, 30, 0, 0, time.UTC),
		"old": time.Date(2026, 12, 31, 20, 30, 0, 0, time.UTC),
	} {
		if err := b.Append(id, "RU-RYA", "61701000", "ЖКХ", "vk", "ГЖИ", "assigned", recv, recv.Add(8*time.Hour), time.Unix(0, 0), uint8(0), recv, uint64(1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	since, now := time.Date(2026, 12, 30, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)
	rows, err := report.Rollup(ctx, ch, report.ByDay, since, now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, r := range rows {
		got[r.Key] = r.Received
	}
	if len(got) != 2 || got["2026-12-31"] != 1 || got["2027-01-01"] != 1 {
		t.Fatalf("days %v, want one appeal on 2026-12-31 and one on 2027-01-01", got)
	}
	yekat, _ := time.LoadLocation("Asia/Yekaterinburg") // UTC+5: both are in 1 January there
	if rows, err := report.RollupIn(ctx, ch, report.ByDay, since, now, yekat); err != nil || len(rows) != 1 || rows[0].Key != "2027-01-01" {
		t.Fatalf("Yekaterinburg days %+v %v", rows, err)
	}
}
