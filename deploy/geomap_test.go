package deploy_test

import (
	"path/filepath"
	"testing"
)

// Keys Grafana 12's Geomap markers layer reads (public/app/plugins/panel/geomap/layers/data/markersLayer:
// MarkersConfig{style, showLegend}; style/types.ts: StyleConfig). Anything else under config is ignored
// by Grafana, which then draws its default dark-green dots.
var (
	markersConfigKeys = map[string]bool{"style": true, "showLegend": true}
	styleConfigKeys   = map[string]bool{"color": true, "opacity": true, "lineWidth": true, "size": true, "symbol": true,
		"symbolAlign": true, "text": true, "textConfig": true, "rotation": true}
)

// TestGeomapLayersUseStyle: every markers layer of every dashboard keeps its colour, size and text under
// config.style, and the heat map's markers are sized by appeals and coloured by heat.
func TestGeomapLayersUseStyle(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("grafana", "dashboards", "*.json"))
	found := false
	for _, f := range files {
		var d struct {
			Panels []struct {
				Type, Title string
				Options     struct {
					Layers []struct {
						Type   string
						Config map[string]any
					}
				}
			}
		}
		readJSON(t, f, &d)
		for _, p := range d.Panels {
			if p.Type != "geomap" {
				continue
			}
			for _, l := range p.Options.Layers {
				if l.Type != "markers" {
					continue
				}
				for k := range l.Config {
					if !markersConfigKeys[k] {
						t.Errorf("%s %q: layer config.%s is not read by Grafana (colour and size go under config.style)", f, p.Title, k)
					}
				}
				style, _ := l.Config["style"].(map[string]any)
				for k := range style {
					if !styleConfigKeys[k] {
						t.Errorf("%s %q: config.style.%s is not a Geomap style key", f, p.Title, k)
					}
				}
				field := func(k string) string {
					m, _ := style[k].(map[string]any)
					s, _ := m["field"].(string)
					return s
				}
				if filepath.Base(f) == "heatmap.json" {
					found = true
					if field("size") != "appeals" || field("color") != "heat" {
						t.Errorf("%s %q: size by %q and colour by %q, want appeals and heat", f, p.Title, field("size"), field("color"))
					}
				}
			}
		}
	}
	if !found {
		t.Error("heatmap.json has no Geomap markers layer")
	}
}
