package deploy_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// mount maps a path inside a container to the repo path it comes from.
type mount struct{ target, source string }

// containerFS is what a service sees of the repo: its bind mounts and secrets, and for images built from
// the repo the files the Dockerfile copies in. Later entries (mounts) win over the image's copies.
type containerFS []mount

// resolve returns the host path of a container path, or "" if nothing of the repo is mounted there.
// The longest mounted prefix wins, as in the container.
func (fs containerFS) resolve(p string) string {
	best := -1
	for i, m := range fs {
		if (p == m.target || strings.HasPrefix(p, strings.TrimSuffix(m.target, "/")+"/")) &&
			(best < 0 || len(m.target) >= len(fs[best].target)) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return filepath.Join(fs[best].source, filepath.FromSlash(strings.TrimPrefix(p, fs[best].target)))
}

// dockerfileCopies reads the final stage's `COPY <src> <dst>` lines of the repo's Dockerfile.
func dockerfileCopies(t *testing.T, root, dockerfile string) containerFS {
	t.Helper()
	f, err := os.Open(filepath.Join(root, dockerfile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var fs containerFS
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		switch {
		case len(w) > 0 && strings.EqualFold(w[0], "FROM"):
			fs = nil // only the last stage is the image
		case len(w) == 3 && strings.EqualFold(w[0], "COPY"):
			fs = append(fs, mount{target: w[2], source: filepath.Join(root, w[1])})
		}
	}
	return fs
}

// serviceFS is the container view of one compose service.
func serviceFS(t *testing.T, root string, p *types.Project, s types.ServiceConfig) containerFS {
	t.Helper()
	var fs containerFS
	if s.Image == "teplokarta:local" {
		fs = append(fs, dockerfileCopies(t, root, "Dockerfile")...)
	}
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind {
			fs = append(fs, mount{target: v.Target, source: v.Source})
		}
	}
	for _, sec := range s.Secrets {
		target := sec.Target
		if target == "" {
			target = sec.Source
		}
		if !path.IsAbs(target) {
			target = "/run/secrets/" + target
		}
		fs = append(fs, mount{target: target, source: p.Secrets[sec.Source].File})
	}
	return fs
}

// TestComposeGrafanaPaths follows Grafana's provisioning inside its container as docker-compose.yml
// mounts it: the provisioning files exist where Grafana reads them, the dashboard provider's folder is
// mounted and holds all five dashboards, the home dashboard exists and the plugin folder is named by its id.
func TestComposeGrafanaPaths(t *testing.T) {
	root, p := loadCompose(t)
	g, ok := p.Services["grafana"]
	if !ok {
		t.Fatal("no grafana service")
	}
	fs := serviceFS(t, root, p, g)
	mustFile := func(what, containerPath string) string {
		t.Helper()
		host := fs.resolve(containerPath)
		if host == "" {
			t.Errorf("%s: %s is not mounted into the grafana container", what, containerPath)
			return ""
		}
		if st, err := os.Stat(host); err != nil || st.IsDir() {
			t.Errorf("%s: %s (%s in the repo) is not a file", what, containerPath, host)
			return ""
		}
		return host
	}
	for _, f := range []string{"datasources/teplokarta.yaml", "datasources/prometheus.yaml", "dashboards/teplokarta.yaml"} {
		mustFile("provisioning", "/etc/grafana/provisioning/"+f)
	}
	var prov struct {
		Providers []struct {
			Name, Type string
			Options    struct{ Path string }
		}
	}
	if host := mustFile("dashboard provider", "/etc/grafana/provisioning/dashboards/teplokarta.yaml"); host != "" {
		readYAMLFile(t, host, &prov)
	}
	if len(prov.Providers) != 1 || prov.Providers[0].Type != "file" {
		t.Fatalf("dashboard providers: %+v", prov.Providers)
	}
	dir := prov.Providers[0].Options.Path
	files, _ := filepath.Glob(filepath.Join(fs.resolve(dir), "*.json"))
	var uids []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct{ UID, Title string }
		if err := json.Unmarshal(b, &d); err != nil || d.UID == "" || d.Title == "" {
			t.Errorf("%s: not a dashboard (%v)", f, err)
		}
		uids = append(uids, d.UID)
	}
	slices.Sort(uids)
	want := dashboardUIDs(t, filepath.Join(root, "deploy", "grafana", "dashboards"))
	if len(want) != 5 || !slices.Equal(uids, want) {
		t.Errorf("the provider reads %s and finds dashboards %v; want the five of deploy/grafana/dashboards %v", dir, uids, want)
	}
	if home := g.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; home != nil {
		mustFile("home dashboard", *home)
	}
	var plugin struct{ ID string }
	b, err := os.ReadFile(filepath.Join(root, "plugin", "src", "plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &plugin); err != nil {
		t.Fatal(err)
	}
	if src := fs.resolve("/var/lib/grafana/plugins/" + plugin.ID); src != filepath.Join(root, "plugin", "dist") {
		t.Errorf("plugin %s is mounted from %q, want plugin/dist", plugin.ID, src)
	}
	if v := g.Environment["GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"]; v == nil || !slices.Contains(strings.Split(*v, ","), plugin.ID) {
		t.Errorf("grafana does not allow the unsigned plugin %s", plugin.ID)
	}
}

// dashboardUIDs lists the uids of the dashboards in a repo folder.
func dashboardUIDs(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var uids []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct{ UID string }
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		uids = append(uids, d.UID)
	}
	slices.Sort(uids)
	return uids
}
