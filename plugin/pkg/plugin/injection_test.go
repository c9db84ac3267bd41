package plugin_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// Hostile filter values must be plain values: they match nothing (or only themselves), and the database
// is unchanged afterwards.
var hostile = []string{
	"ЖКХ' OR '1'='1",
	`ЖКХ\' OR 1=1 --`,
	"') OR 1=1 --",
	"x') UNION ALL SELECT 'ЖКХ', toUInt64(1000) --",
	"'; DROP TABLE appeals; --",
	"61701000') OR ('1'='1",
	"RU-RYA' OR region != '",
	"\x00' OR 1=1",
}

func TestInjectionChangesNothing(t *testing.T) {
	h := newHarness(t, true, nil)
	countAppeals := func() uint64 {
		var n uint64
		if err := h.conn.QueryRow(context.Background(), "SELECT count() FROM appeals").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := countAppeals()
	filterKeys := []string{"regions", "municipalities", "categories", "themes", "sources", "agencies", "statuses"}
	for _, key := range filterKeys {
		for _, qt := range []string{"heatmap", "timeseries", "top", "sla", "appeals", "planning"} {
			t.Run(fmt.Sprintf("%s/%s", qt, key), func(t *testing.T) {
				if key == "regions" { // any region but the datasource's is refused before SQL is built
					if r := h.runResp(june, july, oneDay, q{"queryType": qt, "groupBy": groupFor(qt), "filters": q{key: hostile}}, nil); r.Error == nil || r.Status != 400 {
						t.Fatalf("hostile regions: error %v status %d, want a 400", r.Error, r.Status)
					}
					return
				}
				bad := h.run(june, july, oneDay, q{"queryType": qt, "groupBy": groupFor(qt), "filters": q{key: hostile}})
				none := h.run(june, july, oneDay, q{"queryType": qt, "groupBy": groupFor(qt), "filters": q{key: []string{"no such value"}}})
				if g, w := dump(bad), dump(none); g != w {
					t.Fatalf("hostile values matched something:\n got %s\nwant %s", g, w)
				}
			})
		}
	}
	t.Run("a legitimate value among hostile ones counts only itself", func(t *testing.T) {
		mixed := h.run(june, july, oneDay, q{"queryType": "top", "dimension": "theme", "filters": q{"themes": append([]string{"Ямы"}, hostile...)}})
		clean := h.run(june, july, oneDay, q{"queryType": "top", "dimension": "theme", "filters": q{"themes": []string{"Ямы"}}})
		if dump(mixed) != dump(clean) || len(rows(clean[0])) != 1 || rows(clean[0])[0][2] != int64(5) {
			t.Fatalf("mixed %s, clean %s", dump(mixed), dump(clean))
		}
	})
	t.Run("identifiers come from whitelists only", func(t *testing.T) {
		for _, m := range []q{
			{"queryType": "timeseries", "groupBy": "category; DROP TABLE appeals"},
			{"queryType": "top", "dimension": "appeal_id FROM system.tables --"},
			{"queryType": "sla", "groupBy": "category"},
			{"queryType": "heatmap", "measure": "sum(voices)"},
			{"queryType": "appeals; SELECT 1"},
			{"queryType": "appeals", "limit": 10001},
		} {
			r := h.runResp(june, july, oneDay, m, nil)
			if r.Error == nil || r.Status != 400 {
				t.Errorf("%v: error %v status %d, want a 400", m, r.Error, r.Status)
			}
		}
	})
	if after := countAppeals(); after != before {
		t.Fatalf("appeals count changed: %d → %d", before, after)
	}
}

func groupFor(qt string) string {
	switch qt {
	case "sla":
		return "agency"
	case "timeseries", "planning":
		return "category"
	}
	return ""
}

// dump renders frames' names, field names, labels and values (not the executed SQL, which differs).
func dump(frames data.Frames) string {
	var out []any
	for _, f := range frames {
		out = append(out, f.Name, fieldNames(f), rows(f))
		for _, fld := range f.Fields {
			out = append(out, fld.Labels.String())
		}
	}
	return fmt.Sprint(out)
}
