package plugin_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRegionIsABoundary: a datasource bound to a region reads that region only. filters.regions (or a
// variable interpolated into it) may name the datasource's own region — the same answer as no filter —
// but a query naming any other region is refused with a 400 saying why, for every query type, and
// variable lists asked for another region are empty. The seeded world has Moscow appeals (RU-MOW) that a
// Ryazan datasource must never count, and a Moscow datasource sees only those.
func TestRegionIsABoundary(t *testing.T) {
	h := newHarness(t, true, nil)
	for _, qt := range []string{"heatmap", "timeseries", "top", "sla", "appeals", "planning"} {
		t.Run(qt, func(t *testing.T) {
			base := q{"queryType": qt, "groupBy": groupFor(qt)}
			with := func(regions ...string) q {
				m := q{"filters": q{"regions": regions}}
				for k, v := range base {
					m[k] = v
				}
				return m
			}
			own := h.run(june, july, oneDay, with("RU-RYA"))
			if dump(own) != dump(h.run(june, july, oneDay, base)) {
				t.Errorf("naming the datasource's own region changed the answer")
			}
			for _, regions := range [][]string{{"RU-MOW"}, {"RU-RYA", "RU-MOW"}, {"RU-MOW", "RU-SPE"}, {""}} {
				r := h.runResp(june, july, oneDay, with(regions...), nil)
				if r.Error == nil || r.Status != 400 || !strings.Contains(r.Error.Error(), "outside this datasource's region RU-RYA") {
					t.Errorf("regions %q: error %v status %d, want a 400 naming the boundary", regions, r.Error, r.Status)
				}
			}
		})
	}
	for path, want := range map[string]string{
		"categories?region=RU-MOW":     "[]",
		"municipalities?region=RU-MOW": "[]",
		"themes?region=RU-MOW":         "[]",
	} {
		status, body := h.resource(path)
		var got []opt
		if err := json.Unmarshal(body, &got); err != nil || status != 200 || fmtAny(got) != fmtAny([]opt{}) {
			t.Errorf("%s: %d %s, want %s", path, status, body, want)
		}
	}

	// The same ClickHouse through a datasource bound to Moscow: Moscow's five appeals, nothing of Ryazan.
	mow := startPlugin(t, h.conn, h.ch, map[string]any{"region": "RU-MOW"})
	// Its own instance: the SDK caches instances by datasource UID.
	settings := *mow.pctx.DataSourceInstanceSettings
	settings.UID += "-mow"
	mow.pctx.DataSourceInstanceSettings = &settings
	if o, ok := instanceOpts.Load(h.pctx.DataSourceInstanceSettings.UID); ok {
		instanceOpts.Store(settings.UID, o)
	}
	top := mow.run(june, july, oneDay, q{"queryType": "top"})
	sameRows(t, "moscow top", rows(top[0]), [][]any{{"Транспорт", "Транспорт", int64(5), 100.0}})
	if r := mow.runResp(june, july, oneDay, q{"queryType": "top", "filters": q{"regions": []string{"RU-RYA"}}}, nil); r.Error == nil || r.Status != 400 {
		t.Errorf("a Moscow datasource answered a query for Ryazan: error %v status %d", r.Error, r.Status)
	}
}
