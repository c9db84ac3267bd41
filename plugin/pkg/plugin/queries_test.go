package plugin_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/teplokarta/teplokarta/internal/geo"
)

var (
	june     = day(6, 1, 0, 0)
	july     = day(7, 1, 0, 0)
	oneDay   = 24 * time.Hour
	fromAlrt = map[string]string{"FromAlert": "true"}
)

func heat(obs, base, periodDays, baseDays float64) float64 {
	return (obs + 1) / (base*periodDays/baseDays + 1)
}

// heatmapRows is the expected heatmap table: every Ryazan municipality, counts from the overrides.
func heatmapRows(cur, base map[string]int64, periodDays, baseDays float64) [][]any {
	var out [][]any
	for _, m := range geo.Default().All() {
		var pop, per any
		if m.Population > 0 {
			pop = int64(m.Population)
			per = float64(cur[m.OKTMO]) * 10000 / float64(m.Population)
		}
		out = append(out, []any{m.OKTMO, m.DisplayName(), m.Lat, m.Lon, pop, cur[m.OKTMO], base[m.OKTMO], per,
			heat(float64(cur[m.OKTMO]), float64(base[m.OKTMO]), periodDays, baseDays)})
	}
	return out
}

// heatmapCore is a heatmap frame's rows without the choropleth tooltip's columns (incidents, voices,
// top_categories), which TestHeatmap checks on their own.
func heatmapCore(f *data.Frame) [][]any {
	got := rows(f)
	for i := range got {
		got[i] = got[i][:9]
	}
	return got
}

func TestHeatmap(t *testing.T) {
	h := newHarness(t, true, nil)
	if p, _ := geo.Default().ByOKTMO(ryazan); p.Population != 525062 {
		t.Fatalf("gazetteer changed under the test: %+v", p)
	}
	cases := []struct {
		name      string
		model     q
		cur, base map[string]int64
		baseDays  float64
	}{
		{"incidents, 90-day baseline (1d rollup)", q{"queryType": "heatmap"},
			map[string]int64{ryazan: 9, kasimov: 2, shilovo: 3}, map[string]int64{ryazan: 60, shilovo: 9}, 90},
		{"voices", q{"queryType": "heatmap", "measure": "voices"},
			map[string]int64{ryazan: 12, kasimov: 2, shilovo: 3}, map[string]int64{ryazan: 60, shilovo: 9}, 90},
		{"30-day baseline sees only May", q{"queryType": "heatmap", "baselineDays": 30},
			map[string]int64{ryazan: 9, kasimov: 2, shilovo: 3}, map[string]int64{ryazan: 20}, 30},
		{"theme filter", q{"queryType": "heatmap", "filters": q{"themes": []string{"Ямы"}}},
			map[string]int64{ryazan: 3, kasimov: 2}, map[string]int64{}, 90},
		{"status filter goes through appeal_sla (raw table)", q{"queryType": "heatmap", "filters": q{"statuses": []string{"new"}}},
			map[string]int64{ryazan: 4, kasimov: 2, shilovo: 3}, map[string]int64{ryazan: 60, shilovo: 9}, 90},
		{"multi-value status and source", q{"queryType": "heatmap", "filters": q{"statuses": []string{"resolved", "in_work"}, "sources": []string{"vk", "pos"}}},
			map[string]int64{ryazan: 3}, map[string]int64{}, 90},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			frames := h.run(june, july, oneDay, c.model)
			if len(frames) != 1 {
				t.Fatalf("%d frames", len(frames))
			}
			want := []string{"oktmo", "municipality", "latitude", "longitude", "population", "appeals", "baseline", "per_10k", "heat",
				"incidents", "voices", "top_categories"}
			if got := fieldNames(frames[0]); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("fields %v", got)
			}
			sameRows(t, c.name, heatmapCore(frames[0]), heatmapRows(c.cur, c.base, 30, c.baseDays))
		})
	}
	t.Run("tooltip columns: incidents, voices, top categories; unresolved place in meta", func(t *testing.T) {
		// The same numbers whatever the measure, and from every count source (narrow rollups, 1d, raw).
		for _, model := range []q{{"queryType": "heatmap"}, {"queryType": "heatmap", "measure": "voices"},
			{"queryType": "heatmap", "filters": q{"themes": []string{"Отопление", "Вывоз мусора", "Ямы"}}},
			{"queryType": "heatmap", "filters": q{"statuses": []string{"new", "resolved", "in_work", "assigned"}}}} {
			f := h.run(june, july, oneDay, model)[0]
			tips := map[string][]any{}
			for _, r := range rows(f) {
				tips[r[0].(string)] = r[9:]
			}
			voices := model["measure"] == "voices"
			ryazanTop := "ЖКХ 6 · Дороги 3"
			if voices {
				ryazanTop = "ЖКХ 7 · Дороги 5"
			}
			want := map[string][]any{
				ryazan:     {int64(9), int64(12), ryazanTop},
				kasimov:    {int64(2), int64(2), "Дороги 2"},
				shilovo:    {int64(3), int64(3), "ЖКХ 3"},
				"61710000": {int64(0), int64(0), ""}, // Сасово: nothing,
			}
			for code, w := range want {
				if fmt.Sprint(tips[code]) != fmt.Sprint(w) {
					t.Errorf("%v: %s tooltip columns %v, want %v", model, code, tips[code], w)
				}
			}
			u, _ := f.Meta.Custom.(map[string]any)["unknown"].(map[string]any)
			if fmt.Sprintf("%v %v %v %v", u["appeals"], u["incidents"], u["voices"], u["municipality"]) != "1 1 1 не определено" {
				t.Errorf("%v: unknown place %v, want 1 appeal", model, f.Meta.Custom)
			}
		}
	})
	t.Run("municipality filter keeps only chosen rows", func(t *testing.T) {
		frames := h.run(june, july, oneDay, q{"queryType": "heatmap", "filters": q{"municipalities": []string{kasimov, ryazan}}})
		got := rows(frames[0])
		if len(got) != 2 || got[0][0] != ryazan || got[0][5] != int64(9) || got[1][0] != kasimov || got[1][8] != 3.0 {
			t.Fatalf("rows %v", got)
		}
		if got[0][8] != 10.0/21.0 {
			t.Errorf("Рязань heat %v, want 10/21: large but usual", got[0][8])
		}
	})
	t.Run("alerting gets one labelled number per municipality", func(t *testing.T) {
		r := h.runResp(june, july, oneDay, q{"queryType": "heatmap"}, fromAlrt)
		if r.Error != nil {
			t.Fatal(r.Error)
		}
		if len(r.Frames) != 29 {
			t.Fatalf("%d frames, want 29", len(r.Frames))
		}
		for _, f := range r.Frames {
			if len(f.Fields) != 1 || f.Fields[0].Len() != 1 {
				t.Fatalf("frame %s is not a single number", f.Name)
			}
		}
		f := r.Frames[26] // Касимов: 25 districts (616…) sort before the four okrugs (617…)
		if l := f.Fields[0].Labels; l["oktmo"] != kasimov || l["municipality"] != "Касимов" || f.Fields[0].At(0) != 3.0 {
			t.Fatalf("Касимов alert frame: %v %v", l, f.Fields[0].At(0))
		}
	})
}

// series flattens labelled timeseries frames to name → values.
func series(t *testing.T, frames data.Frames) map[string][]int64 {
	t.Helper()
	out := map[string][]int64{}
	for _, f := range frames {
		if len(f.Fields) != 2 || f.Fields[0].Name != "time" {
			t.Fatalf("frame %s fields %v", f.Name, fieldNames(f))
		}
		var v []int64
		for i := range f.Fields[1].Len() {
			v = append(v, f.Fields[1].At(i).(int64))
		}
		out[f.Name] = v
	}
	return out
}

// at returns a length-n series with the given (index → value) points.
func at(n int, pts map[int]int64) []int64 {
	v := make([]int64, n)
	for i, x := range pts {
		v[i] = x
	}
	return v
}

func TestTimeseries(t *testing.T) {
	h := newHarness(t, true, nil)
	rya := q{"municipalities": []string{ryazan}}
	cases := []struct {
		name     string
		from, to time.Time
		interval time.Duration
		model    q
		want     map[string][]int64
	}{
		{"June by day per category (1d rollup)", june, july, oneDay,
			q{"queryType": "timeseries", "groupBy": "category", "filters": rya},
			map[string][]int64{"ЖКХ": at(30, map[int]int64{1: 1, 2: 1, 9: 1, 19: 2, 27: 1}), "Дороги": at(30, map[int]int64{4: 1, 13: 1, 24: 1})}},
		{"voices per source", june, july, oneDay,
			q{"queryType": "timeseries", "groupBy": "source", "measure": "voices", "filters": rya},
			map[string][]int64{
				"vk":      at(30, map[int]int64{1: 1, 2: 1, 13: 2, 19: 2, 24: 1}),
				"112":     at(30, map[int]int64{2: 1}),
				"pos":     at(30, map[int]int64{4: 1, 9: 1}),
				"nashdom": at(30, map[int]int64{13: 1, 27: 1}),
			}},
		{"hourly on June 14 (1h rollup) per agency", day(6, 14, 0, 0), day(6, 14, 12, 0), time.Hour,
			q{"queryType": "timeseries", "groupBy": "agency", "measure": "voices"},
			map[string][]int64{mintrans: at(12, map[int]int64{9: 2, 11: 1})}},
		{"unaligned 40-minute range by minute goes to 1m rollup", day(6, 14, 8, 50), day(6, 14, 9, 30), time.Minute,
			q{"queryType": "timeseries", "groupBy": "none", "measure": "voices"},
			map[string][]int64{"Все обращения": at(40, map[int]int64{10: 1})}},
		{"status filter (raw + appeal_sla)", june, july, oneDay,
			q{"queryType": "timeseries", "groupBy": "none", "filters": q{"statuses": []string{"resolved"}}},
			map[string][]int64{"Все обращения": at(30, map[int]int64{1: 1, 2: 1, 4: 1})}},
		{"theme filter at 5-minute step (raw: no 1m rollup has themes)", day(6, 3, 0, 0), day(6, 3, 1, 30), 5 * time.Minute,
			q{"queryType": "timeseries", "groupBy": "category", "measure": "voices", "filters": q{"themes": []string{"Отопление"}}},
			map[string][]int64{"ЖКХ": at(18, map[int]int64{0: 1, 12: 1})}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := series(t, h.run(c.from, c.to, c.interval, c.model))
			if len(got) != len(c.want) {
				t.Fatalf("series %v, want %v", got, c.want)
			}
			for k, w := range c.want {
				if g := got[k]; len(g) != len(w) || fmtS(g) != fmtS(w) {
					t.Errorf("%s: %v, want %v", k, g, w)
				}
			}
		})
	}
	t.Run("per municipality: labelled frames, zero series included, time axis", func(t *testing.T) {
		frames := h.run(june, july, oneDay, q{"queryType": "timeseries", "groupBy": "municipality"})
		if len(frames) != 30 { // 29 municipalities + unresolved
			t.Fatalf("%d frames", len(frames))
		}
		byName := map[string]*data.Frame{}
		for _, f := range frames {
			byName[f.Name] = f
		}
		k := byName["Касимов"]
		if k == nil || k.Fields[1].Labels["oktmo"] != kasimov || k.Fields[1].Labels["municipality"] != "Касимов" {
			t.Fatalf("Касимов frame: %v", k)
		}
		if !k.Fields[0].At(7).(time.Time).Equal(day(6, 8, 0, 0)) || k.Fields[1].At(7) != int64(1) || k.Fields[1].At(8) != int64(1) {
			t.Errorf("Касимов June 8/9: %v %v", k.Fields[0].At(7), k.Fields[1].At(7))
		}
		if u := byName["не определено"]; u == nil || u.Fields[1].At(14) != int64(1) {
			t.Errorf("unresolved series missing or wrong")
		}
		if s := byName["Сасово"]; s == nil || fmtS(series(t, data.Frames{s})["Сасово"]) != fmtS(make([]int64, 30)) {
			t.Errorf("Сасово zero series missing")
		}
	})
}

func fmtS(v []int64) string { return fmtAny(v) }

func TestTop(t *testing.T) {
	h := newHarness(t, true, nil)
	cases := []struct {
		name  string
		model q
		want  [][]any
	}{
		{"themes", q{"queryType": "top", "dimension": "theme"}, [][]any{
			{"Отопление", "Отопление", int64(8), 800.0 / 15}, {"Ямы", "Ямы", int64(5), 500.0 / 15}, {"Вывоз мусора", "Вывоз мусора", int64(2), 200.0 / 15}}},
		{"municipalities, limit 2", q{"queryType": "top", "dimension": "municipality", "limit": 2}, [][]any{
			{ryazan, "Рязань", int64(9), 60.0}, {shilovo, "Шиловский район", int64(3), 20.0}}},
		{"categories by voices", q{"queryType": "top", "dimension": "category", "measure": "voices"}, [][]any{
			{"ЖКХ", "ЖКХ", int64(11), 1100.0 / 18}, {"Дороги", "Дороги", int64(7), 700.0 / 18}}},
		{"agencies with a status filter", q{"queryType": "top", "dimension": "agency", "filters": q{"statuses": []string{"resolved", "assigned"}}}, [][]any{
			{gzhi, gzhi, int64(2), 50.0}, {mintrans, mintrans, int64(2), 50.0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := h.run(june, july, oneDay, c.model)[0]
			sameRows(t, c.name, rows(f), c.want)
		})
	}
}

func TestSLA(t *testing.T) {
	h := newHarness(t, true, nil)
	cases := []struct {
		name  string
		model q
		want  [][]any
	}{
		{"by agency", q{"queryType": "sla", "groupBy": "agency"}, [][]any{
			{gzhi, gzhi, int64(3), int64(2), int64(1), int64(1), 100.0 / 3, 48.0, 48.0},
			{mintrans, mintrans, int64(2), int64(1), int64(1), int64(0), 100.0, 36.0, 36.0}}},
		{"by municipality", q{"queryType": "sla", "groupBy": "municipality"}, [][]any{
			{ryazan, "Рязань", int64(5), int64(3), int64(2), int64(1), 50.0, 36.0, 48.0}}},
		{"open only: no share, no times", q{"queryType": "sla", "filters": q{"statuses": []string{"in_work", "assigned"}}}, [][]any{
			{gzhi, gzhi, int64(1), int64(0), int64(0), int64(1), 0.0, nil, nil},
			{mintrans, mintrans, int64(1), int64(0), int64(0), int64(0), nil, nil, nil}}},
		{"an older version's status does not match (FINAL before WHERE)", q{"queryType": "sla", "filters": q{"statuses": []string{"assigned"}}}, [][]any{
			{mintrans, mintrans, int64(1), int64(0), int64(0), int64(0), nil, nil, nil}}},
		{"theme filter via appeals", q{"queryType": "sla", "filters": q{"themes": []string{"Вывоз мусора"}}}, [][]any{
			{gzhi, gzhi, int64(1), int64(0), int64(0), int64(1), 0.0, nil, nil}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sameRows(t, c.name, rows(h.run(june, july, oneDay, c.model)[0]), c.want)
		})
	}
}

func TestAppeals(t *testing.T) {
	h := newHarness(t, true, nil)
	t.Run("newest first, status and agency from appeal_sla, deadline, masked text", func(t *testing.T) {
		f := h.run(day(6, 1, 0, 0), day(6, 6, 0, 0), oneDay, q{"queryType": "appeals", "filters": q{"municipalities": []string{ryazan}}})[0]
		want := [][]any{
			{day(6, 5, 0, 0), "r5", "Рязань", ryazan, "Дороги", "Ямы", "pos", "resolved", mintrans, day(6, 10, 0, 0), "", "", ""},
			{day(6, 3, 1, 0), "r2v", "Рязань", ryazan, "ЖКХ", "Отопление", "vk", "new", gzhi, nil, "", "", ""},
			{day(6, 3, 0, 0), "r2", "Рязань", ryazan, "ЖКХ", "Отопление", "112", "resolved", gzhi, day(6, 4, 0, 0), "", "", ""},
			{day(6, 2, 10, 0), "r1", "Рязань", ryazan, "ЖКХ", "Отопление", "vk", "resolved", gzhi, day(6, 5, 10, 0),
				"Нет отопления на улице Есенина, звоните [телефон] или пишите [email], [фио]", "", ""},
		}
		sameRows(t, "appeals", rows(f), want)
	})
	t.Run("status filter and limit", func(t *testing.T) {
		f := h.run(june, july, oneDay, q{"queryType": "appeals", "limit": 2, "filters": q{"statuses": []string{"new"}, "categories": []string{"ЖКХ"}}})[0]
		got := rows(f)
		if len(got) != 2 || got[0][1] != "r9" || got[1][1] != "r7" || got[0][7] != "new" {
			t.Fatalf("rows %v", got)
		}
	})
	t.Run("in_work is the latest version", func(t *testing.T) {
		f := h.run(june, july, oneDay, q{"queryType": "appeals", "filters": q{"statuses": []string{"in_work", "assigned"}}})[0]
		got := rows(f)
		if len(got) != 2 || got[0][1] != "r4" || got[0][7] != "assigned" || got[1][1] != "r3" || got[1][7] != "in_work" {
			t.Fatalf("rows %v", got)
		}
	})
}

func TestPlanning(t *testing.T) {
	h := newHarness(t, true, nil)
	m := func(mo time.Month) time.Time { return time.Date(2025, mo, 1, 0, 0, 0, 0, msk).UTC() }
	pct := func(cur, prev float64) float64 { return (cur - prev) * 100 / prev }
	t.Run("by municipality, March … June", func(t *testing.T) {
		frames := h.run(m(3), m(7), oneDay, q{"queryType": "planning", "groupBy": "municipality"})
		if len(frames) != 2 || frames[0].Name != "monthly" || frames[1].Name != "yearly" {
			t.Fatalf("frames %v", frames)
		}
		sameRows(t, "monthly", rows(frames[0]), [][]any{
			{m(3), ryazan, "Рязань", int64(20), int64(0), nil},
			{m(4), shilovo, "Шиловский район", int64(9), int64(0), nil},
			{m(4), ryazan, "Рязань", int64(20), int64(0), nil},
			{m(5), ryazan, "Рязань", int64(20), int64(0), nil},
			{m(6), "", "не определено", int64(1), int64(0), nil},
			{m(6), shilovo, "Шиловский район", int64(3), int64(0), nil},
			{m(6), ryazan, "Рязань", int64(9), int64(4), pct(9, 4)},
			{m(6), kasimov, "Касимов", int64(2), int64(0), nil},
		})
		sameRows(t, "yearly", rows(frames[1]), [][]any{
			{int64(2025), "", "не определено", int64(1), int64(0), nil},
			{int64(2025), shilovo, "Шиловский район", int64(12), int64(0), nil},
			{int64(2025), ryazan, "Рязань", int64(69), int64(4), pct(69, 4)},
			{int64(2025), kasimov, "Касимов", int64(2), int64(0), nil},
		})
	})
	t.Run("totals by category over two years", func(t *testing.T) {
		frames := h.run(time.Date(2024, 1, 1, 0, 0, 0, 0, msk), m(7), oneDay, q{"queryType": "planning", "groupBy": "category", "filters": q{"municipalities": []string{ryazan}}})
		sameRows(t, "yearly", rows(frames[1]), [][]any{
			{int64(2024), "ЖКХ", "ЖКХ", int64(5), int64(0), nil},
			{int64(2025), "Дороги", "Дороги", int64(3), int64(0), nil},
			{int64(2025), "ЖКХ", "ЖКХ", int64(66), int64(5), pct(66, 5)},
		})
	})
}
