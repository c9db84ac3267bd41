package k8s_test

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// grafanaExpand interpolates a provisioning value as Grafana does (pkg/services/provisioning/values):
// "$$" is a literal "$", the rest goes through Go's os.Expand — there is no ${NAME:-default}.
func grafanaExpand(s string, env map[string]string) string {
	parts := strings.Split(s, "$$")
	for i, p := range parts {
		parts[i] = os.Expand(p, func(name string) string { return env[name] })
	}
	return strings.Join(parts, "$")
}

var provisioningVar = regexp.MustCompile(`\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// grafanaEnv is the Grafana container's environment: env values and ConfigMap keys (envFrom, then env).
func grafanaEnv(t *testing.T, b *build, c corev1.Container) map[string]string {
	t.Helper()
	key := func(name, k string) string {
		e, ok := b.configMaps[name][k]
		if !ok {
			t.Fatalf("grafana: ConfigMap %s has no key %s (the pod would not start)", name, k)
		}
		v, err := e.content()
		if err != nil {
			t.Fatal(err)
		}
		return string(v)
	}
	env := map[string]string{}
	for _, f := range c.EnvFrom {
		if f.ConfigMapRef != nil {
			for k := range b.configMaps[f.ConfigMapRef.Name] {
				env[k] = key(f.ConfigMapRef.Name, k)
			}
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.ConfigMapKeyRef != nil:
			env[e.Name] = key(e.ValueFrom.ConfigMapKeyRef.Name, e.ValueFrom.ConfigMapKeyRef.Key)
		}
	}
	return env
}

// TestGrafanaDatasourcesResolve expands the datasource provisioning Grafana finds in its pod with the
// pod's environment, as Grafana does: every variable the files name is set (passwords may be left
// out), the teplokarta datasource reaches ClickHouse and Redis exactly where the teplokarta containers
// do (teplokarta-env: the same Redis addresses and Sentinel master name), and Prometheus is the
// Service of this deployment.
func TestGrafanaDatasourcesResolve(t *testing.T) {
	for dir, b := range builds(t) {
		t.Run(dir, func(t *testing.T) {
			pod := b.podSpecs()["Deployment/grafana"]
			if pod == nil {
				t.Fatal("no grafana Deployment")
			}
			var c corev1.Container
			for _, x := range pod.Spec.Containers {
				if x.Name == "grafana" {
					c = x
				}
			}
			env := grafanaEnv(t, b, c)
			shared := map[string]string{}
			for k := range b.configMaps {
				if strings.HasPrefix(k, "teplokarta-env") {
					for n := range b.configMaps[k] {
						v, _ := b.configMaps[k][n].content()
						shared[n] = string(v)
					}
				}
			}
			root := podRoot(t, b, pod, c)
			read := func(name string) map[string]any {
				raw, err := os.ReadFile(filepath.Join(root, "etc/grafana/provisioning/datasources", name))
				if err != nil {
					t.Fatal(err)
				}
				var doc struct {
					Datasources []map[string]any `json:"datasources"`
				}
				if err := yaml.Unmarshal(raw, &doc); err != nil || len(doc.Datasources) != 1 {
					t.Fatalf("%s: %v (%d datasources)", name, err, len(doc.Datasources))
				}
				// Grafana interpolates values (comments are not values).
				var walk func(v any)
				walk = func(v any) {
					switch x := v.(type) {
					case string:
						for _, m := range provisioningVar.FindAllStringSubmatch(x, -1) {
							n := m[1] + m[2]
							if _, ok := env[n]; !ok && !strings.Contains(n, "PASSWORD") {
								t.Errorf("%s names $%s, which the grafana container does not set (Grafana would use \"\")", name, n)
							}
						}
					case map[string]any:
						for _, e := range x {
							walk(e)
						}
					case []any:
						for _, e := range x {
							walk(e)
						}
					}
				}
				walk(doc.Datasources[0])
				return doc.Datasources[0]
			}
			str := func(m any, k string) string {
				s, _ := m.(map[string]any)[k].(string)
				return grafanaExpand(s, env)
			}
			service := func(host string) bool {
				for _, o := range b.objects {
					if _, ok := o.obj.(*corev1.Service); ok && o.name == host {
						return true
					}
				}
				return false
			}

			tk := read("teplokarta.yaml")
			jd := tk["jsonData"]
			if h := str(jd, "host"); !service(h) || !strings.HasPrefix(shared["TEPLOKARTA_CLICKHOUSE_ADDR"], h+":") {
				t.Errorf("ClickHouse host %q: want the Service the teplokarta containers use (%s)", h, shared["TEPLOKARTA_CLICKHOUSE_ADDR"])
			}
			addr, master := str(jd, "redisAddr"), str(jd, "redisMasterName")
			if addr != shared["TEPLOKARTA_REDIS_ADDR"] || master != shared["TEPLOKARTA_REDIS_MASTER"] {
				t.Errorf("Redis %q master %q; the teplokarta containers use %q master %q",
					addr, master, shared["TEPLOKARTA_REDIS_ADDR"], shared["TEPLOKARTA_REDIS_MASTER"])
			}
			for _, a := range strings.Split(addr, ",") {
				if h, _, err := net.SplitHostPort(a); err != nil || !service(h) {
					t.Errorf("Redis address %q is not host:port of a Service here (%v)", a, err)
				}
			}

			prom := read("prometheus.yaml")
			u, err := url.Parse(grafanaExpand(prom["url"].(string), env))
			if err != nil || u.Scheme != "http" || !service(u.Hostname()) {
				t.Errorf("Prometheus URL %q: want http://<a Service here>:<port>", u)
			} else if svc, ok := b.find("Service", u.Hostname()).(*corev1.Service); ok {
				found := false
				for _, p := range svc.Spec.Ports {
					found = found || u.Port() == strconv.Itoa(int(p.Port))
				}
				if !found {
					t.Errorf("Prometheus URL %s: Service %s has no port %s", u, svc.Name, u.Port())
				}
			}
		})
	}
}
