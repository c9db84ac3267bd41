package deploy_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"
)

// TestPipelineDashboard checks the pipeline health dashboard against what it reads: every panel queries
// the provisioned Prometheus datasource, and every metric its queries name is one the code registers
// (a renamed metric would otherwise leave an empty panel that nobody notices until an incident).
func TestPipelineDashboard(t *testing.T) {
	root, _ := filepath.Abs("..")
	b, err := os.ReadFile(filepath.Join(root, "deploy/grafana/dashboards/pipeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title      string
		Type       string
		Datasource map[string]string
		Targets    []struct {
			Expr       string
			Datasource map[string]string
		}
	}
	var d struct {
		UID, Title string
		Tags       []string
		Panels     []panel
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.Title == "" || !slices.Contains(d.Tags, "prometheus") {
		t.Fatalf("uid %q, title %q, tags %v (the plugin's dashboard test skips those tagged prometheus)", d.UID, d.Title, d.Tags)
	}
	var ds struct {
		Datasources []struct{ UID, Type, URL string }
	}
	readYAMLFile(t, filepath.Join(root, "deploy/grafana/provisioning/datasources/prometheus.yaml"), &ds)
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL == "" { // where it points: TestComposeGrafanaDatasourcesResolve
		t.Fatalf("prometheus datasource provisioning: %+v", ds)
	}
	uid := ds.Datasources[0].UID

	check := metricChecker(t)
	queried := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Datasource["uid"] != uid || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %v, %d queries", p.Title, p.Datasource, len(p.Targets))
		}
		for _, tg := range p.Targets {
			if tg.Datasource["uid"] != uid || tg.Expr == "" {
				t.Errorf("panel %q: query %+v", p.Title, tg)
			}
			queried += check("panel "+strconv.Quote(p.Title), tg.Expr)
		}
	}
	if queried < 10 {
		t.Errorf("only %d metric references found: is the regexp still right?", queried)
	}
}

// TestAlertRules: the alerting rules parse, Prometheus loads them from where compose mounts them, and
// every metric they watch is one the code registers.
func TestAlertRules(t *testing.T) {
	root, p := loadCompose(t)
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr, For string
				Labels           map[string]string
				Annotations      map[string]string
			}
		}
	}
	readYAMLFile(t, filepath.Join(root, "deploy/prometheus/alerts.yml"), &rules)
	check := metricChecker(t)
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %+v: alert, expr and summary are required", r)
			}
			if sev := r.Labels["severity"]; sev != "critical" && sev != "warning" {
				t.Errorf("%s: severity %q", r.Alert, sev)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			check("alert "+r.Alert, r.Expr)
		}
	}
	if n < 5 {
		t.Errorf("%d alerting rules", n)
	}
	var cfg struct {
		RuleFiles []string `yaml:"rule_files"`
	}
	readYAMLFile(t, filepath.Join(root, "deploy/prometheus/prometheus.yml"), &cfg)
	mounted := map[string]string{} // container path → repo file
	for _, v := range p.Services["prometheus"].Volumes {
		mounted[v.Target] = v.Source
	}
	for _, f := range cfg.RuleFiles {
		if src := mounted[f]; src != filepath.Join(root, "deploy/prometheus/alerts.yml") {
			t.Errorf("rule file %s is mounted from %q", f, src)
		}
	}
	if len(cfg.RuleFiles) == 0 {
		t.Error("prometheus.yml loads no rule files")
	}
}

// metricChecker returns a check that parses a PromQL expression with Prometheus's own parser and reports
// every metric it names that the code does not register, and returns how many it found. Histograms are
// named by their _bucket/_sum/_count series; process_* come from the client library's process collector.
func metricChecker(t *testing.T) func(where, expr string) int {
	registered := registeredMetrics(t)
	metricRef := regexp.MustCompile(`\b(teplokarta_|sla_|process_)[a-z0-9_]+`)
	promql := parser.NewParser(parser.Options{})
	return func(where, expr string) int {
		t.Helper()
		// Grafana replaces its variables before Prometheus sees the query.
		if _, err := promql.ParseExpr(strings.ReplaceAll(expr, "$__rate_interval", "1m")); err != nil {
			t.Errorf("%s: %q is not PromQL: %v", where, expr, err)
		}
		names := metricRef.FindAllString(expr, -1)
		for _, name := range names {
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				base = strings.TrimSuffix(base, suffix)
			}
			if !registered[base] && !strings.HasPrefix(name, "process_") {
				t.Errorf("%s queries %s, which no code registers", where, name)
			}
		}
		return len(names)
	}
}

// TestPrometheusScrapesComposeServices: Prometheus's targets are the compose services on the ports they
// serve /metrics on.
func TestPrometheusScrapesComposeServices(t *testing.T) {
	root, p := loadCompose(t)
	if _, ok := p.Services["prometheus"]; !ok {
		t.Fatal("compose has no prometheus service")
	}
	var cfg struct {
		ScrapeConfigs []struct {
			JobName       string                       `yaml:"job_name"`
			StaticConfigs []struct{ Targets []string } `yaml:"static_configs"`
			DNSSDConfigs  []struct {
				Names []string
				Port  int
			} `yaml:"dns_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAMLFile(t, filepath.Join(root, "deploy/prometheus/prometheus.yml"), &cfg)
	targets := map[string]string{} // job → host:port
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				targets[sc.JobName] = tg
			}
		}
		for _, dns := range sc.DNSSDConfigs {
			for _, n := range dns.Names {
				targets[sc.JobName] = n + ":" + strconv.Itoa(dns.Port)
			}
		}
	}
	// The port each service listens on for /metrics, from its command line in compose.
	for service, flag := range map[string]string{"ingest": "--metrics-addr", "processor": "--metrics-addr", "sla": "--metrics-addr"} {
		cmd := p.Services[service].Command
		i := slices.Index(cmd, flag)
		if i < 0 || i+1 >= len(cmd) {
			t.Errorf("%s: no %s in %v", service, flag, cmd)
			continue
		}
		want := service + cmd[i+1] // ":9463" → "processor:9463"
		if targets[service] != want {
			t.Errorf("prometheus scrapes %s at %q, the service serves /metrics at %q", service, targets[service], want)
		}
	}
}

// registeredMetrics returns the metric names the code declares (`Name: "…"` in metric options), read from
// the source tree once for all the tests that need them.
func registeredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names, err := metricNames()
	if err != nil {
		t.Fatal(err)
	}
	if !names["teplokarta_processor_lag_records"] {
		t.Fatalf("the metric scan found %d names but not the processor's lag: is the pattern still right?", len(names))
	}
	return names
}

var metricNames = sync.OnceValues(func() (map[string]bool, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return nil, err
	}
	return walkMetricNames(root)
})

func walkMetricNames(root string) (map[string]bool, error) {
	name := regexp.MustCompile(`Name:\s*"([a-z0-9_]+)"`)
	out := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && (e.Name() == "node_modules" || strings.HasPrefix(e.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range name.FindAllSubmatch(b, -1) {
			out[string(m[1])] = true
		}
		return nil
	})
	return out, err
}

func readYAMLFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
