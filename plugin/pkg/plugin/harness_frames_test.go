package plugin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/teplokarta/teplokarta/internal/geo"
)

// harnessCategories are the categories of the browser harness's world, in the order a municipality's
// appeals cycle through them (so top-3 lists differ between municipalities).
var harnessCategories = []string{"ЖКХ", "Дороги", "Благоустройство", "Транспорт", "Экология"}

// harnessWorld seeds every Ryazan municipality: June 2025 incidents (some none), a March–May baseline,
// a voice for every third incident and four appeals of no resolved place. Deterministic, so the browser's
// screenshots change only when the plugin does.
func harnessWorld() []appeal {
	var out []appeal
	for i, m := range geo.Default().All() {
		if m.Region != "RU-RYA" {
			continue
		}
		cur := (i*7 + 3) % 11
		base := ((i*5 + 2) % 9) * 6
		for j := range cur {
			cat := harnessCategories[(i+j*j)%len(harnessCategories)]
			id := fmt.Sprintf("h%d-%d", i, j)
			a := rya(id, m.OKTMO, cat, cat, "ведомство", "vk", day(6, 1+j%28, (i+j)%24, 0))
			out = append(out, a)
			if j%3 == 0 {
				out = append(out, voice(rya(id+"v", m.OKTMO, cat, cat, "ведомство", "pos", a.at.Add(time.Hour)), id))
			}
		}
		for j := range base {
			cat := harnessCategories[(i+j)%len(harnessCategories)]
			out = append(out, rya(fmt.Sprintf("hb%d-%d", i, j), m.OKTMO, cat, cat, "ведомство", "112",
				day(3, 3, 0, 0).Add(time.Duration(j)*(85*24*time.Hour)/time.Duration(base))))
		}
	}
	for j := range 4 {
		out = append(out, rya(fmt.Sprintf("hu%d", j), "", "ЖКХ", "ЖКХ", "ведомство", "vk", day(6, 10+j, 0, 0)))
	}
	return out
}

// TestHarnessFrames produces what the browser harness (plugin/harness, `make -C plugin browser`) draws:
// the real backend's answer to the choropleth's heatmap query over a seeded ClickHouse, as Grafana's
// /api/ds/query body, and the option-list resources the query editor reads. It writes them to
// $TEPLOKARTA_HARNESS_OUT (a temporary directory when unset, so the Go suite still checks the world).
func TestHarnessFrames(t *testing.T) {
	h := newHarness(t, false, nil)
	insertAppeals(t, h.conn, harnessWorld())
	out := os.Getenv("TEPLOKARTA_HARNESS_OUT")
	if out == "" {
		out = t.TempDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}

	raw, _ := json.Marshal(q{"queryType": "heatmap", "measure": "incidents", "baselineDays": 90})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := h.tp.Client.QueryData(ctx, &backend.QueryDataRequest{
		PluginContext: h.pctx,
		Queries: []backend.DataQuery{{RefID: "A", QueryType: "heatmap", JSON: raw, Interval: oneDay,
			TimeRange: backend.TimeRange{From: june, To: july}, MaxDataPoints: 1000}},
	})
	if err != nil || resp.Responses["A"].Error != nil {
		t.Fatalf("heatmap query: %v %v", err, resp.Responses["A"].Error)
	}

	// The browser's assertions need a unique hottest municipality and a municipality with no appeals but
	// a baseline (the bluest under the heat index): keep the world that way.
	f := resp.Responses["A"].Frames[0]
	if n, _ := f.RowLen(); n != 29 {
		t.Fatalf("%d municipalities, want 29", n)
	}
	hottest, ties, quietWithBaseline := 0.0, 0, 0
	for _, r := range rows(f) {
		switch heat := r[8].(float64); {
		case heat > hottest:
			hottest, ties = heat, 1
		case heat == hottest:
			ties++
		}
		if r[5] == int64(0) && r[6].(int64) > 0 {
			quietWithBaseline++
		}
	}
	if ties != 1 || quietWithBaseline == 0 {
		t.Fatalf("harness world: %d municipalities share the top heat %.2f, %d quiet ones with a baseline", ties, hottest, quietWithBaseline)
	}
	custom, _ := f.Meta.Custom.(map[string]any)
	if u, _ := custom["unknown"].(map[string]any); u["appeals"] != 4.0 {
		t.Fatalf("unresolved place: %v, want 4 appeals", f.Meta.Custom)
	}

	body, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("query.json", body)
	resources := map[string]json.RawMessage{}
	for _, name := range []string{"municipalities", "categories", "themes", "agencies", "sources", "statuses"} {
		status, b := h.resource(name)
		if status != 200 {
			t.Fatalf("resource %s: HTTP %d %s", name, status, b)
		}
		resources[name] = b
	}
	b, _ := json.Marshal(resources)
	write("resources.json", b)
	rng, _ := json.Marshal(map[string]int64{"from": june.UnixMilli(), "to": july.UnixMilli()})
	write("range.json", rng)
	t.Logf("wrote the harness's frames to %s", out)
}
