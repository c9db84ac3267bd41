package plugin_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/teplokarta/teplokarta/plugin/pkg/plugin"
)

const grafanaDir = "../../../deploy/grafana"

// dashTarget is a panel query as stored in a dashboard; unknown keys fail the decode, so a typo in a
// query model field cannot slip through.
type dashTarget struct {
	RefID        string              `json:"refId"`
	Datasource   map[string]string   `json:"datasource"`
	QueryType    string              `json:"queryType"`
	Filters      map[string][]string `json:"filters"`
	Measure      string              `json:"measure"`
	GroupBy      string              `json:"groupBy"`
	Dimension    string              `json:"dimension"`
	Limit        int                 `json:"limit"`
	BaselineDays int                 `json:"baselineDays"`
	Live         bool                `json:"live"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(grafanaDir, path))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestProvisioning checks the datasource and dashboard provisioning files.
func TestProvisioning(t *testing.T) {
	var ds struct {
		Datasources []struct {
			UID, Type      string
			JSONData       map[string]any `yaml:"jsonData"`
			SecureJSONData map[string]any `yaml:"secureJsonData"`
		}
	}
	readYAML(t, "provisioning/datasources/teplokarta.yaml", &ds)
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != plugin.ID || ds.Datasources[0].UID != "teplokarta" {
		t.Fatalf("datasources: %+v", ds)
	}
	known := map[string]bool{}
	for _, k := range []string{"host", "port", "database", "username", "tls", "tlsSkipVerify", "region", "redisAddr", "redisMasterName", "boundaryFile", "streamIntervalMs", "cacheTTLSeconds", "queryTimeoutSeconds"} {
		known[k] = true
	}
	for k := range ds.Datasources[0].JSONData {
		if !known[k] {
			t.Errorf("jsonData.%s is not a setting", k)
		}
	}
	for k := range ds.Datasources[0].SecureJSONData {
		if k != "password" && k != "redisPassword" && k != "redisSentinelPassword" {
			t.Errorf("secureJsonData.%s is not a setting", k)
		}
	}
	var prov struct {
		Providers []struct {
			Type    string
			Options struct{ Path string }
		}
	}
	readYAML(t, "provisioning/dashboards/teplokarta.yaml", &prov)
	// Where compose mounts the folder this path names is checked on docker-compose.yml itself
	// (deploy's TestComposeGrafanaPaths).
	if len(prov.Providers) != 1 || prov.Providers[0].Type != "file" || prov.Providers[0].Options.Path == "" {
		t.Errorf("dashboard providers: %+v", prov.Providers)
	}
}

// TestDashboards checks every provisioned dashboard of this plugin: valid JSON, our datasource on every panel and
// variable, every query model valid, and every field a panel names present in the frames that panel's
// queries return from the seeded database.
func TestDashboards(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(grafanaDir, "dashboards", "*.json"))
	titles := map[string]bool{}
	h := newHarness(t, true, nil)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			UID, Title string
			Tags       []string
			Templating struct {
				List []struct {
					Name, Type string
					Datasource map[string]string
					Query      map[string]string
				}
			}
			Panels []json.RawMessage
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: invalid JSON: %v", file, err)
		}
		titles[d.Title] = true
		if slices.Contains(d.Tags, "prometheus") {
			continue // the pipeline's own metrics, not this plugin's: deploy's TestPipelineDashboard checks it
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			if d.UID == "" || d.Title == "" {
				t.Fatalf("uid %q title %q", d.UID, d.Title)
			}
			vars := map[string]bool{}
			for _, v := range d.Templating.List {
				vars[v.Name] = true
				if v.Type != "query" || v.Datasource["uid"] != "teplokarta" || v.Datasource["type"] != plugin.ID {
					t.Errorf("variable %s: type %s datasource %v", v.Name, v.Type, v.Datasource)
				}
				if status, body := h.resource(v.Query["resource"]); status != 200 || !bytes.HasPrefix(body, []byte("[{")) {
					t.Errorf("variable %s: resource %q answered %d %s", v.Name, v.Query["resource"], status, body)
				}
			}
			for _, raw := range d.Panels {
				checkPanel(t, h, raw, vars)
			}
		})
	}
	for _, want := range []string{"Тепловая карта обращений", "Оперативная обстановка", "Сроки исполнения (SLA)", "Планирование"} {
		if !titles[want] {
			t.Errorf("dashboard «%s» is missing", want)
		}
	}
}

var fieldRegex = regexp.MustCompile(`^/\^(\w+)\$/$`)

func checkPanel(t *testing.T, h *harness, raw json.RawMessage, vars map[string]bool) {
	t.Helper()
	var p struct {
		Title      string
		Type       string
		Datasource map[string]string
		Targets    []json.RawMessage
		Panels     []json.RawMessage
		Options    map[string]any
		FieldCfg   struct {
			Overrides []struct {
				Matcher    struct{ ID, Options string }
				Properties []struct {
					ID    string
					Value any
				}
			}
		} `json:"fieldConfig"`
		Transformations []struct {
			ID      string
			Options map[string]any
		}
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("panel: %v", err)
	}
	if p.Type == "row" {
		for _, c := range p.Panels {
			checkPanel(t, h, c, vars)
		}
		return
	}
	if p.Datasource["uid"] != "teplokarta" || p.Datasource["type"] != plugin.ID {
		t.Errorf("panel %q: datasource %v is not ours", p.Title, p.Datasource)
	}
	if len(p.Targets) == 0 {
		t.Errorf("panel %q has no queries", p.Title)
	}
	fields := map[string]bool{}
	for _, rawT := range p.Targets {
		var tg dashTarget
		dec := json.NewDecoder(bytes.NewReader(rawT))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&tg); err != nil {
			t.Errorf("panel %q: query: %v", p.Title, err)
			continue
		}
		if tg.Datasource["uid"] != "teplokarta" {
			t.Errorf("panel %q: query datasource %v", p.Title, tg.Datasource)
		}
		model := q{"queryType": tg.QueryType, "measure": tg.Measure, "groupBy": tg.GroupBy, "dimension": tg.Dimension, "limit": tg.Limit, "baselineDays": tg.BaselineDays}
		filters := q{}
		for k, vals := range tg.Filters {
			if !slices.Contains([]string{"regions", "municipalities", "categories", "themes", "sources", "agencies", "statuses"}, k) {
				t.Errorf("panel %q: unknown filter %q", p.Title, k)
			}
			var lit []string
			for _, v := range vals {
				if name, ok := strings.CutPrefix(v, "$"); ok {
					if !vars[name] {
						t.Errorf("panel %q: filter %s uses undefined variable %s", p.Title, k, v)
					}
					continue // "All": no filter
				}
				lit = append(lit, v)
			}
			if len(lit) > 0 {
				filters[k] = lit
			}
		}
		model["filters"] = filters
		if _, err := plugin.ParseQuery(tg.QueryType, mustJSON(model)); err != nil {
			t.Errorf("panel %q: %v", p.Title, err)
			continue
		}
		if tg.Live {
			if tg.QueryType != plugin.QueryTimeseries {
				t.Errorf("panel %q: live streaming is for timeseries queries", p.Title)
			}
			for _, f := range []string{"time", "category", "incidents", "voices"} {
				fields[f] = true
			}
			continue
		}
		r := h.runResp(day(3, 1, 0, 0), day(7, 1, 0, 0), oneDay, model, nil)
		if r.Error != nil {
			t.Errorf("panel %q: query failed: %v", p.Title, r.Error)
			continue
		}
		for _, f := range r.Frames {
			for _, fld := range f.Fields {
				fields[fld.Name] = true
			}
		}
	}
	// Display names set by overrides may be used in place of field names (table sortBy).
	display := map[string]bool{}
	var used []string
	for _, o := range p.FieldCfg.Overrides {
		if o.Matcher.ID == "byName" {
			used = append(used, o.Matcher.Options)
		}
		for _, prop := range o.Properties {
			if s, ok := prop.Value.(string); ok && prop.ID == "displayName" {
				display[s] = true
			}
		}
	}
	for _, tr := range p.Transformations {
		for _, key := range []string{"excludeByName", "indexByName", "renameByName"} {
			if m, ok := tr.Options[key].(map[string]any); ok {
				for f := range m {
					used = append(used, f)
				}
			}
		}
	}
	used = append(used, optionFields(p.Options)...)
	for _, f := range used {
		if !fields[f] && !display[f] {
			t.Errorf("panel %q uses field %q that its queries do not return (have %v)", p.Title, f, keys(fields))
		}
	}
}

// optionFields collects the field names panel options refer to: Geomap layer fields, bar chart x
// field, reduce field regexes, table sort.
func optionFields(o map[string]any) []string {
	var out []string
	str := func(v any) {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	if layers, ok := o["layers"].([]any); ok {
		for _, l := range layers {
			lm, _ := l.(map[string]any)
			loc, _ := lm["location"].(map[string]any)
			str(loc["latitude"])
			str(loc["longitude"])
			cfg, _ := lm["config"].(map[string]any)
			style, _ := cfg["style"].(map[string]any) // Grafana's markers layer reads only config.style
			for _, k := range []string{"color", "size", "text"} {
				m, _ := style[k].(map[string]any)
				str(m["field"])
			}
		}
	}
	str(o["xField"])
	if ro, ok := o["reduceOptions"].(map[string]any); ok {
		if s, ok := ro["fields"].(string); ok {
			if m := fieldRegex.FindStringSubmatch(s); m != nil {
				out = append(out, m[1])
			}
		}
	}
	if sb, ok := o["sortBy"].([]any); ok {
		for _, s := range sb {
			m, _ := s.(map[string]any)
			str(m["displayName"])
		}
	}
	return out
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
