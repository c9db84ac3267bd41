package k8s_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// healthFlags are the address flags whose listeners serve /healthz, by subcommand (cmd/teplokarta:
// process and sla serve's obs.Handler on --metrics-addr, sla serve's API mux on --listen, ingest's
// server on --listen and obs.Handler on --metrics-addr).
var healthFlags = map[string][]string{
	"process":   {"metrics-addr"},
	"ingest":    {"listen", "metrics-addr"},
	"sla serve": {"listen", "metrics-addr"},
}

// TestCommands runs every teplokarta container's exact command line and environment with
// --check-config, in a copy of the file system the container sees (the image's /etc/teplokarta with the
// pod's ConfigMaps and Secrets mounted over it), and checks that its probes hit a port where the command
// serves /healthz on all interfaces.
func TestCommands(t *testing.T) {
	bin := buildBinary(t)
	for dir, b := range builds(t) {
		seen := map[string]bool{}
		names := make([]string, 0)
		pods := b.podSpecs()
		for n := range pods {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			pod := pods[name]
			for _, c := range pod.Spec.Containers {
				if !isTeplokarta(c.Image) {
					continue
				}
				t.Run(dir+"/"+name+"/"+c.Name, func(t *testing.T) {
					if len(c.Command) > 0 || len(c.Args) == 0 {
						t.Fatalf("want the image's entrypoint with args, got command %q args %q", c.Command, c.Args)
					}
					sub := c.Args[0]
					if sub == "sla" && len(c.Args) > 1 {
						sub += " " + c.Args[1]
					}
					seen[sub] = true
					root := podRoot(t, b, pod, c)
					env := containerEnv(t, b, c)
					checkConfig(t, bin, root, c.Args, env)
					checkProbes(t, bin, sub, c, env)
					checkScrape(t, bin, sub, pod, c, env)
				})
			}
		}
		for _, want := range []string{"migrate", "ingest", "process", "sla serve"} {
			if !seen[want] {
				t.Errorf("%s: no container runs teplokarta %s", dir, want)
			}
		}
	}
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "teplokarta")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/teplokarta")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// podRoot builds the container's /etc: the image copies deploy/ to /etc/teplokarta (Dockerfile), then
// each volume mount replaces a folder (or, with subPath, one file) by the volume's keys.
func podRoot(t *testing.T, b *build, pod *corev1.PodTemplateSpec, c corev1.Container) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "etc/teplokarta"), os.DirFS("..")); err != nil {
		t.Fatal(err)
	}
	for _, m := range c.VolumeMounts {
		data := volumeData(t, b, pod, m.Name)
		if data == nil {
			continue // emptyDir and the like: nothing the command reads
		}
		dst := filepath.Join(root, m.MountPath)
		if m.SubPath != "" {
			e, ok := data[m.SubPath]
			if !ok {
				t.Fatalf("mount %s: volume %s has no key %s", m.MountPath, m.Name, m.SubPath)
			}
			writeEntry(t, dst, e)
			continue
		}
		if err := os.RemoveAll(dst); err != nil {
			t.Fatal(err)
		}
		for k, e := range data {
			writeEntry(t, filepath.Join(dst, k), e)
		}
	}
	return root
}

func writeEntry(t *testing.T, dst string, e entry) {
	t.Helper()
	b, err := e.content()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(dst)
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// volumeData returns the keys a ConfigMap, Secret or projected volume shows (nil for other volumes).
func volumeData(t *testing.T, b *build, pod *corev1.PodTemplateSpec, name string) map[string]entry {
	t.Helper()
	for _, v := range pod.Spec.Volumes {
		if v.Name != name {
			continue
		}
		out := map[string]entry{}
		add := func(gen map[string]map[string]entry, ref string) {
			d, ok := gen[ref]
			if !ok {
				t.Fatalf("volume %s: no generated %s", name, ref)
			}
			for k, e := range d {
				if _, dup := out[k]; dup {
					t.Errorf("volume %s: key %s twice", name, k)
				}
				out[k] = e
			}
		}
		switch {
		case v.ConfigMap != nil:
			add(b.configMaps, v.ConfigMap.Name)
		case v.Secret != nil:
			add(b.secrets, v.Secret.SecretName)
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if s.Secret != nil {
					add(b.secrets, s.Secret.Name)
				}
				if s.ConfigMap != nil {
					add(b.configMaps, s.ConfigMap.Name)
				}
			}
		default:
			return nil
		}
		return out
	}
	t.Fatalf("no volume %s", name)
	return nil
}

// containerEnv is the container's environment: envFrom ConfigMaps, then env (which wins).
func containerEnv(t *testing.T, b *build, c corev1.Container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, f := range c.EnvFrom {
		if f.ConfigMapRef == nil {
			t.Fatalf("envFrom other than a ConfigMap: %+v", f)
		}
		for k, e := range b.configMaps[f.ConfigMapRef.Name] {
			v, err := e.content()
			if err != nil {
				t.Fatal(err)
			}
			env[k] = string(v)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			t.Fatalf("env %s from a reference: teplokarta reads secrets from files (--*-file)", e.Name)
		}
		env[e.Name] = e.Value
	}
	return env
}

// checkConfig runs the command with --check-config, every absolute path that exists in the container
// mapped into root.
func checkConfig(t *testing.T, bin, root string, args []string, env map[string]string) {
	t.Helper()
	mapPath := func(v string) string {
		if strings.HasPrefix(v, "/") {
			if _, err := os.Stat(filepath.Join(root, v)); err == nil {
				return filepath.Join(root, v)
			}
		}
		return v
	}
	cmdArgs := make([]string, 0, len(args)+1)
	for _, a := range args {
		cmdArgs = append(cmdArgs, mapPath(a))
	}
	cmd := exec.Command(bin, append(cmdArgs, "--check-config")...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()} // nothing of the host's TEPLOKARTA_*
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+mapPath(v))
	}
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "configuration OK") {
		t.Errorf("%q fails the program's own check: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// checkProbes: each probe is an HTTP GET of /healthz on a port where the command serves it, and that
// listener is not bound to loopback (the kubelet probes the pod's IP).
func checkProbes(t *testing.T, bin, sub string, c corev1.Container, env map[string]string) {
	t.Helper()
	flags, serves := healthFlags[sub]
	if !serves {
		if c.ReadinessProbe != nil || c.LivenessProbe != nil {
			t.Errorf("teplokarta %s serves no /healthz, but the container has probes", sub)
		}
		return
	}
	if c.ReadinessProbe == nil || c.LivenessProbe == nil {
		t.Fatalf("teplokarta %s serves /healthz: readiness and liveness probes required", sub)
	}
	ports := map[string]bool{}
	for _, f := range flags {
		if port := listenPort(t, bin, sub, c, env, f); port != "" {
			ports[port] = true
		}
	}
	for what, pr := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if pr.HTTPGet == nil || pr.HTTPGet.Path != "/healthz" {
			t.Errorf("%s probe: want an HTTP GET of /healthz, got %+v", what, pr.ProbeHandler)
			continue
		}
		n, ok := containerPort(c, pr.HTTPGet.Port.String())
		if !ok {
			t.Errorf("%s probe: port %s is not declared", what, pr.HTTPGet.Port.String())
			continue
		}
		if !ports[strconv.Itoa(int(n))] {
			t.Errorf("%s probe: port %d, but teplokarta %s serves /healthz on %v", what, n, sub, ports)
		}
	}
}

// listenPort is the port of a listener flag (args, then its variable, then the binary's default), ""
// when off. A loopback-only address is an error: neither the kubelet nor Prometheus can reach it.
func listenPort(t *testing.T, bin, sub string, c corev1.Container, env map[string]string, flag string) string {
	t.Helper()
	addr, ok := flagValue(c.Args, flag)
	if !ok {
		addr, ok = env["TEPLOKARTA_"+strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))]
	}
	if !ok || addr == "" {
		addr = flagDefaults(t, bin, strings.Fields(sub))[flag]
	}
	if addr == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("--%s %q: %v", flag, addr, err)
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		t.Errorf("--%s %s listens on loopback only: nothing outside the pod reaches it", flag, addr)
		return ""
	}
	return port
}

// checkScrape: a command serving /metrics (--metrics-addr) is in a pod Prometheus scrapes (files/prometheus.yml
// keeps pods annotated prometheus.io/scrape and takes prometheus.io/port) on that port, under a job name
// (the pod's app.kubernetes.io/name) the pipeline dashboard queries.
func checkScrape(t *testing.T, bin, sub string, pod *corev1.PodTemplateSpec, c corev1.Container, env map[string]string) {
	t.Helper()
	if _, serves := healthFlags[sub]; !serves {
		return
	}
	port := listenPort(t, bin, sub, c, env, "metrics-addr")
	if port == "" {
		t.Errorf("teplokarta %s without --metrics-addr: /metrics would be on its public port", sub)
		return
	}
	a := pod.Annotations
	if a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != port {
		t.Errorf("pod annotations %v: want prometheus.io/scrape \"true\" and prometheus.io/port %q (--metrics-addr)", a, port)
	}
	dash, err := os.ReadFile("base/files/grafana/dashboards/pipeline.json")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`job=~\\"([a-z|]+)\\"`).FindSubmatch(dash)
	if m == nil {
		t.Fatal("pipeline.json: no job=~ selector")
	}
	job := pod.Labels["app.kubernetes.io/name"]
	if !slices.Contains(strings.Split(string(m[1]), "|"), job) {
		t.Errorf("job %q (app.kubernetes.io/name) is not one the pipeline dashboard queries (%s)", job, m[1])
	}
}

// flagValue returns a flag's value from a command line (--f v, --f=v, -f v).
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		a = strings.TrimLeft(a, "-")
		if a == name && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

var defaultRe = regexp.MustCompile(`\(default "([^"]*)"\)`)

// flagDefaults reads the subcommand's flag defaults from its --help, so they are the binary's own.
func flagDefaults(t *testing.T, bin string, sub []string) map[string]string {
	t.Helper()
	cmd := exec.Command(bin, append(sub, "--help")...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, _ := cmd.CombinedOutput() // --help exits non-zero
	defaults := map[string]string{}
	for _, block := range strings.Split(string(out), "\n  -")[1:] {
		name, _, _ := strings.Cut(block, " ")
		name, _, _ = strings.Cut(name, "\n")
		if m := defaultRe.FindStringSubmatch(block); m != nil {
			defaults[name] = m[1]
		}
	}
	for _, f := range healthFlags[strings.Join(sub, " ")] {
		if !strings.Contains(string(out), "\n  -"+f+" ") {
			t.Fatalf("teplokarta %s --help has no --%s: healthFlags is out of date:\n%s", strings.Join(sub, " "), f, out)
		}
	}
	return defaults
}
