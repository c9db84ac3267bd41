package plugin_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func (h *harness) resource(path string) (int, []byte) {
	h.t.Helper()
	status, body, err := h.callResource(path)
	if err != nil {
		h.t.Fatalf("CallResource %s: %v", path, err)
	}
	return status, body
}

// callResource is resource for any goroutine: a transport error is returned, not fatal.
func (h *harness) callResource(path string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var status int
	var body []byte
	err := h.tp.Client.CallResource(ctx, &backend.CallResourceRequest{PluginContext: h.pctx, Method: "GET", Path: pathOnly(path), URL: path},
		backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error {
			status, body = r.Status, append(body, r.Body...)
			return nil
		}))
	return status, body, err
}

func pathOnly(p string) string {
	for i, c := range p {
		if c == '?' {
			return p[:i]
		}
	}
	return p
}

type opt struct{ Value, Text string }

func TestVariableResources(t *testing.T) {
	h := newHarness(t, true, nil)
	cases := []struct {
		path string
		want []opt
	}{
		{"categories", []opt{{"Дороги", "Дороги"}, {"ЖКХ", "ЖКХ"}}},
		{"categories?region=RU-RYA", []opt{{"Дороги", "Дороги"}, {"ЖКХ", "ЖКХ"}}},
		{"categories?region=RU-MOW", []opt{}}, // outside the datasource's region: nothing (region_test.go)
		{"themes", []opt{{"Вывоз мусора", "Вывоз мусора"}, {"Отопление", "Отопление"}, {"Ямы", "Ямы"}}},
		{"themes?category=%D0%96%D0%9A%D0%A5", []opt{{"Вывоз мусора", "Вывоз мусора"}, {"Отопление", "Отопление"}}},
		{"themes?category=%27%20OR%201%3D1%20--", []opt{}},
		{"agencies", []opt{{gzhi, gzhi}, {mintrans, mintrans}}},
		{"sources", []opt{{"112", "Система-112"}, {"nashdom", "Наш дом"}, {"pos", "Платформа обратной связи (ПОС)"}, {"vk", "ВКонтакте"}}},
		{"statuses", []opt{{"new", "Новое"}, {"assigned", "Назначено"}, {"in_work", "В работе"}, {"resolved", "Решено"}, {"returned", "Возвращено"}}},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			for round := range 2 { // the second answer comes from the Redis cache and must be the same
				status, body := h.resource(c.path)
				var got []opt
				if err := json.Unmarshal(body, &got); err != nil || status != 200 {
					t.Fatalf("status %d body %s: %v", status, body, err)
				}
				if len(got) != len(c.want) || fmtAny(got) != fmtAny(c.want) {
					t.Fatalf("round %d: %v, want %v", round, got, c.want)
				}
			}
		})
	}
	t.Run("municipalities", func(t *testing.T) {
		_, body := h.resource("municipalities")
		var got []opt
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 29 || got[0] != (opt{"61602000", "Ермишинский район"}) || got[25] != (opt{ryazan, "Рязань"}) || got[28] != (opt{"61715000", "Скопин"}) {
			t.Fatalf("%d municipalities: %v", len(got), got)
		}
	})
	t.Run("unknown resource is a 404", func(t *testing.T) {
		if status, _ := h.resource("../../etc/passwd"); status != 404 {
			t.Fatalf("status %d", status)
		}
	})
}

type geoFC struct {
	Type     string `json:"type"`
	Features []struct {
		Type     string `json:"type"`
		Geometry struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
}

func TestGeoJSON(t *testing.T) {
	dir := t.TempDir()
	boundary := filepath.Join(dir, "boundaries.geojson")
	poly := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"oktmo":"61705000","source":"osm"},
	  "geometry":{"type":"Polygon","coordinates":[[[41.3,54.9],[41.5,54.9],[41.5,55.0],[41.3,54.9]]]}}]}`
	if err := os.WriteFile(boundary, []byte(poly), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, false, map[string]any{"boundaryFile": boundary})
	get := func(path string) geoFC {
		status, body := h.resource(path)
		var fc geoFC
		if err := json.Unmarshal(body, &fc); err != nil || status != 200 || fc.Type != "FeatureCollection" {
			t.Fatalf("%s: status %d, %v, %s", path, status, err, body)
		}
		return fc
	}
	all := get("geojson")
	if len(all.Features) != 30 {
		t.Fatalf("%d features, want 29 points + 1 polygon", len(all.Features))
	}
	var ryz = all.Features[25]
	if ryz.Geometry.Type != "Point" || string(ryz.Geometry.Coordinates) != "[39.7359,54.6254]" {
		t.Fatalf("Рязань geometry %+v", ryz.Geometry)
	}
	wantProps := `map[kind:urban_okrug lat:54.6254 lon:39.7359 name:Рязань oktmo:61701000 population:525062]`
	if fmtAny(ryz.Properties) != wantProps {
		t.Fatalf("Рязань properties %v", ryz.Properties)
	}
	if p := all.Features[0].Properties; p["population"] != nil || p["name"] != "Ермишинский район" || p["kind"] != "district" {
		t.Fatalf("district properties %v", p)
	}
	pg := all.Features[29]
	if pg.Geometry.Type != "Polygon" || pg.Properties["name"] != "Касимов" || pg.Properties["source"] != "osm" || pg.Properties["population"] != 33494.0 {
		t.Fatalf("polygon %+v", pg)
	}
	if n := len(get("geojson?layer=polygons").Features); n != 1 {
		t.Fatalf("polygons layer: %d", n)
	}
	if n := len(get("geojson?layer=points").Features); n != 29 {
		t.Fatalf("points layer: %d", n)
	}
}
