package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGrafanaVersionsAgree: the plugin is built and tested with one @grafana/* version (package-lock.json),
// plugin.json asks Grafana for that major.minor or later, and compose runs exactly that Grafana.
func TestGrafanaVersionsAgree(t *testing.T) {
	root, p := loadCompose(t)
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	readJSON(t, filepath.Join(root, "plugin", "package-lock.json"), &lock)
	version := ""
	for _, pkg := range []string{"data", "ui", "runtime", "schema", "i18n"} {
		v := lock.Packages["node_modules/@grafana/"+pkg].Version
		if v == "" {
			t.Fatalf("@grafana/%s is not in plugin/package-lock.json", pkg)
		}
		if version == "" {
			version = v
		}
		if v != version {
			t.Errorf("@grafana/%s is %s, @grafana/data %s: the plugin must build against one Grafana", pkg, v, version)
		}
	}
	parts := strings.Split(version, ".")
	if len(parts) < 2 {
		t.Fatalf("@grafana/data version %q", version)
	}
	var plugin struct {
		Dependencies struct{ GrafanaDependency string } `json:"dependencies"`
	}
	readJSON(t, filepath.Join(root, "plugin", "src", "plugin.json"), &plugin)
	if want := ">=" + parts[0] + "." + parts[1] + ".0"; plugin.Dependencies.GrafanaDependency != want {
		t.Errorf("plugin.json grafanaDependency %q; the plugin builds with @grafana/* %s, want %q",
			plugin.Dependencies.GrafanaDependency, version, want)
	}
	if img := p.Services["grafana"].Image; img != "grafana/grafana:"+version {
		t.Errorf("compose runs %s; the plugin builds with @grafana/* %s, want grafana/grafana:%s", img, version, version)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
