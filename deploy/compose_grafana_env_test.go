package deploy_test

import (
	"encoding/json"
	"net"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"gopkg.in/yaml.v3"

	"github.com/teplokarta/teplokarta/plugin/pkg/plugin"
)

// grafanaExpand interpolates a provisioning value as Grafana does (pkg/services/provisioning/values):
// "$$" is a literal "$", everything else goes through Go's os.Expand — so ${NAME:-default} reads a
// variable literally named "NAME:-default", which is never set.
func grafanaExpand(s string, env map[string]string) string {
	parts := strings.Split(s, "$$")
	for i, p := range parts {
		parts[i] = os.Expand(p, func(name string) string { return env[name] })
	}
	return strings.Join(parts, "$")
}

// expandTree interpolates every string of a decoded YAML value, as Grafana does for jsonData.
func expandTree(v any, env map[string]string) any {
	switch x := v.(type) {
	case string:
		return grafanaExpand(x, env)
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = expandTree(e, env)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = expandTree(e, env)
		}
		return out
	}
	return v
}

type provisionedDatasources struct {
	Datasources []struct {
		UID            string         `yaml:"uid"`
		URL            string         `yaml:"url"`
		JSONData       map[string]any `yaml:"jsonData"`
		SecureJSONData map[string]any `yaml:"secureJsonData"`
	} `yaml:"datasources"`
}

// TestComposeGrafanaDatasourcesResolve reads the datasource provisioning Grafana finds in its container,
// with the container's environment from docker-compose.yml, expands it exactly as Grafana does and loads
// the teplokarta datasource's settings through the plugin's own LoadSettings: the ClickHouse host and
// the Prometheus URL name compose services, and the Redis settings follow .env (one server by default,
// a Sentinel set when TEPLOKARTA_REDIS_ADDR lists Sentinels and TEPLOKARTA_REDIS_MASTER names the master).
// It found the provisioning's ${NAME:-default} values, which Grafana left empty.
func TestComposeGrafanaDatasourcesResolve(t *testing.T) {
	cases := []struct {
		name       string
		env        types.Mapping
		redisAddrs []string
		master     string
	}{
		{"default", types.Mapping{}, []string{"redis:6379"}, ""},
		{"sentinel", types.Mapping{"TEPLOKARTA_REDIS_ADDR": "sentinel-1:26379,sentinel-2:26379,sentinel-3:26379", "TEPLOKARTA_REDIS_MASTER": "tk"},
			[]string{"sentinel-1:26379", "sentinel-2:26379", "sentinel-3:26379"}, "tk"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root, p := loadComposeEnv(t, tc.env)
			g, ok := p.Services["grafana"]
			if !ok {
				t.Fatal("no grafana service")
			}
			env := map[string]string{}
			for k, v := range g.Environment {
				if v != nil {
					env[k] = *v
				}
			}
			fs := serviceFS(t, root, p, g)
			read := func(name string) provisionedDatasources {
				host := fs.resolve("/etc/grafana/provisioning/datasources/" + name)
				if host == "" {
					t.Fatalf("%s is not mounted in the grafana container", name)
				}
				b, err := os.ReadFile(host)
				if err != nil {
					t.Fatal(err)
				}
				var d provisionedDatasources
				if err := yaml.Unmarshal(b, &d); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if len(d.Datasources) != 1 {
					t.Fatalf("%s: %d datasources", name, len(d.Datasources))
				}
				return d
			}

			ds := read("teplokarta.yaml").Datasources[0]
			jsonData, err := json.Marshal(expandTree(ds.JSONData, env))
			if err != nil {
				t.Fatal(err)
			}
			secure := map[string]string{}
			for k, v := range expandTree(ds.SecureJSONData, env).(map[string]any) {
				secure[k] = v.(string)
			}
			s, err := plugin.LoadSettings(backend.DataSourceInstanceSettings{JSONData: jsonData, DecryptedSecureJSONData: secure})
			if err != nil {
				t.Fatalf("the provisioned teplokarta datasource does not load: %v\njsonData %s", err, jsonData)
			}
			if _, ok := p.Services[s.Host]; !ok {
				t.Errorf("ClickHouse host %q is not a compose service", s.Host)
			}
			r := s.Redis()
			if !reflect.DeepEqual(r.Addrs, tc.redisAddrs) || r.MasterName != tc.master {
				t.Errorf("Redis %v master %q, want %v master %q", r.Addrs, r.MasterName, tc.redisAddrs, tc.master)
			}
			for _, a := range r.Addrs {
				if h, _, _ := net.SplitHostPort(a); tc.master == "" && p.Services[h].Name == "" {
					t.Errorf("Redis address %s is not a compose service", a)
				}
			}

			prom := read("prometheus.yaml").Datasources[0]
			u, err := url.Parse(grafanaExpand(prom.URL, env))
			if err != nil || u.Scheme != "http" || u.Port() != "9090" {
				t.Fatalf("Prometheus URL %q (%v): want http://<service>:9090", grafanaExpand(prom.URL, env), err)
			}
			if _, ok := p.Services[u.Hostname()]; !ok {
				t.Errorf("Prometheus URL names %q, not a compose service", u.Hostname())
			}
		})
	}
}

// TestComposeSentinelCommandsPassConfigCheck: with a Sentinel set in .env, every teplokarta service's
// command line still passes its own configuration check (the master name reaches each one).
func TestComposeSentinelCommandsPassConfigCheck(t *testing.T) {
	_, p := loadComposeEnv(t, types.Mapping{"TEPLOKARTA_REDIS_ADDR": "sentinel-1:26379,sentinel-2:26379", "TEPLOKARTA_REDIS_MASTER": "tk"})
	for _, s := range p.Services {
		if s.Image != "teplokarta:local" {
			continue
		}
		if v := s.Environment["TEPLOKARTA_REDIS_MASTER"]; v == nil || *v != "tk" {
			t.Errorf("%s: TEPLOKARTA_REDIS_MASTER %v, want tk from .env", s.Name, v)
		}
	}
	checkComposeCommands(t, p)
}
