package k8s_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// overlays are the deployable kustomizations; base is checked through them.
func overlays(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("overlays/*/kustomization.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no overlays: %v", err)
	}
	for i, d := range dirs {
		dirs[i] = filepath.Dir(d)
	}
	return dirs
}

func mustLoad(t *testing.T, dir string) *build {
	t.Helper()
	b, err := load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestManifestsDecodeStrictly: every document of every file a kustomization lists decodes into its typed
// Kubernetes object with no unknown field, every generator's files exist, and every patch names an
// object of its bases.
func TestManifestsDecodeStrictly(t *testing.T) {
	for _, dir := range append([]string{"base"}, overlays(t)...) {
		t.Run(dir, func(t *testing.T) {
			b := mustLoad(t, dir)
			if len(b.objects) == 0 {
				t.Fatal("no objects")
			}
			for _, p := range b.patches {
				if b.find(p.kind, p.name) == nil {
					t.Errorf("%s: patch of %s/%s, which no resource defines", p.file, p.kind, p.name)
				}
			}
			for name := range b.replicas {
				if b.find("Deployment", name) == nil {
					t.Errorf("replicas of %s, which is no Deployment", name)
				}
			}
		})
	}
}

// TestDecoderIsStrict keeps the decoder honest: a misspelt field, a field of the wrong type and a kind
// it does not know are errors.
func TestDecoderIsStrict(t *testing.T) {
	tests := []struct {
		name, doc string
		ok        bool
	}{
		{"valid", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: 2}\n", true},
		{"misspelt field", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replica: 2}\n", false},
		{"unknown container field", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 80, targetport: 8080}]}\n", false},
		{"wrong type", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: two}\n", false},
		{"unknown kind", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: x}\n", false},
		{"no name", "apiVersion: v1\nkind: Service\nmetadata: {}\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeDocs(tc.name, []byte(tc.doc))
			if (err == nil) != tc.ok {
				t.Errorf("decode: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestCopiesMatchDeploy: Kustomize reads generator files only inside the kustomization's folder, so
// base/files holds copies; they must be the files docker-compose.yml uses.
func TestCopiesMatchDeploy(t *testing.T) {
	pairs := map[string]string{
		"base/files/ingest.yaml": "../ingest.example.yaml",
		"base/files/sla.yaml":    "../sla.yaml",
		"base/files/alerts.yml":  "../prometheus/alerts.yml",
	}
	for _, sub := range []string{"dashboards", "provisioning/datasources", "provisioning/dashboards"} {
		orig, _ := filepath.Glob(filepath.Join("../grafana", sub, "*"))
		copies, _ := filepath.Glob(filepath.Join("base/files/grafana", sub, "*"))
		if len(orig) == 0 || len(orig) != len(copies) {
			t.Errorf("deploy/grafana/%s has %d files, base/files/grafana/%[1]s %d", sub, len(orig), len(copies))
		}
		for _, o := range orig {
			pairs[filepath.Join("base/files/grafana", sub, filepath.Base(o))] = o
		}
	}
	for c, o := range pairs {
		cb, err1 := os.ReadFile(c)
		ob, err2 := os.ReadFile(o)
		if err1 != nil || err2 != nil {
			t.Errorf("%s / %s: %v %v", c, o, err1, err2)
			continue
		}
		if !bytes.Equal(cb, ob) {
			t.Errorf("deploy/k8s/%s differs from deploy/%s: cp deploy/%[2]s deploy/k8s/%[1]s", c, strings.TrimPrefix(o, "../"))
		}
	}
}

// partitions is the raw topics' partition count: what docker-compose.yml's kafka-init creates them with
// and what ingest's config creates missing ones with. Both must agree.
func partitions(t *testing.T) int32 {
	t.Helper()
	compose, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`appeals\.raw\.vk[^\n]*\n[^\n]*--partitions (\d+)`).FindSubmatch(compose)
	if m == nil {
		t.Fatal("docker-compose.yml: no --partitions for the raw topics")
	}
	n, _ := strconv.Atoi(string(m[1]))
	b, err := os.ReadFile("base/files/ingest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Kafka struct {
			Partitions int `json:"partitions"`
		} `json:"kafka"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Kafka.Partitions != n || n == 0 {
		t.Fatalf("raw topic partitions: compose %d, ingest config %d", n, cfg.Kafka.Partitions)
	}
	return int32(n)
}

// TestWorkloads checks each overlay's workloads: replicas, references, resources, services, probes of
// non-teplokarta containers (teplokarta's are checked against the binary in TestCommands).
func TestWorkloads(t *testing.T) {
	maxProc := partitions(t)
	for dir, b := range builds(t) {
		t.Run(dir, func(t *testing.T) {
			deps := b.deployments()
			p := deps["processor"]
			if p == nil {
				t.Fatal("no processor Deployment")
			}
			if n := *p.Spec.Replicas; n < 1 || n > maxProc {
				t.Errorf("processor replicas %d: want 1..%d (the raw topics' partitions)", n, maxProc)
			}
			if g := p.Spec.Template.Spec.TerminationGracePeriodSeconds; g == nil || *g < 45 {
				t.Errorf("processor terminationGracePeriodSeconds %v: want ≥ 45 (30 s stop timeout + flush)", g)
			}
			if b.find("PodDisruptionBudget", "processor") == nil {
				t.Error("no PodDisruptionBudget for the processor")
			}
			for name, pod := range b.podSpecs() {
				checkPod(t, b, name, pod)
			}
			checkServices(t, b, deps)
			checkExternal(t, dir, b)
		})
	}
}

func checkPod(t *testing.T, b *build, name string, pod *corev1.PodTemplateSpec) {
	t.Helper()
	exists := func(kind, ref string) {
		gen := b.configMaps
		if kind == "Secret" {
			gen = b.secrets
		}
		if _, ok := gen[ref]; !ok && b.find(kind, ref) == nil {
			t.Errorf("%s references %s %q, which the kustomization does not create", name, kind, ref)
		}
	}
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			exists("ConfigMap", v.ConfigMap.Name)
		case v.Secret != nil:
			exists("Secret", v.Secret.SecretName)
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if s.Secret != nil {
					exists("Secret", s.Secret.Name)
				}
				if s.ConfigMap != nil {
					exists("ConfigMap", s.ConfigMap.Name)
				}
			}
		}
	}
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				exists("ConfigMap", e.ConfigMapRef.Name)
			}
			if e.SecretRef != nil {
				exists("Secret", e.SecretRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				exists("Secret", e.ValueFrom.SecretKeyRef.Name)
			}
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				exists("ConfigMap", e.ValueFrom.ConfigMapKeyRef.Name)
			}
			if strings.Contains(strings.ToUpper(e.Name), "PASSWORD") && e.Value != "" && !strings.HasSuffix(e.Name, "_FILE") {
				t.Errorf("%s/%s: %s holds a secret value in the environment", name, c.Name, e.Name)
			}
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, okR := c.Resources.Requests[r]
			lim, okL := c.Resources.Limits[r]
			if !okR || !okL {
				t.Errorf("%s/%s: %s request and limit both required", name, c.Name, r)
			} else if req.Cmp(lim) > 0 {
				t.Errorf("%s/%s: %s request %s above limit %s", name, c.Name, r, req.String(), lim.String())
			}
		}
		for _, m := range c.VolumeMounts {
			if !hasVolume(pod, m.Name) {
				t.Errorf("%s/%s: mount of volume %q, which the pod does not have", name, c.Name, m.Name)
			}
		}
		if !isTeplokarta(c.Image) {
			for _, pr := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
				if pr != nil && pr.HTTPGet != nil {
					if _, ok := containerPort(c, pr.HTTPGet.Port.String()); !ok {
						t.Errorf("%s/%s: probe on port %s, which the container does not declare", name, c.Name, pr.HTTPGet.Port.String())
					}
				}
			}
		}
	}
}

func hasVolume(pod *corev1.PodTemplateSpec, name string) bool {
	for _, v := range pod.Spec.Volumes {
		if v.Name == name {
			return true
		}
	}
	return false
}

// containerPort resolves a probe's or Service's port (a name or a number) to a declared container port.
func containerPort(c corev1.Container, port string) (int32, bool) {
	for _, p := range c.Ports {
		if p.Name == port || strconv.Itoa(int(p.ContainerPort)) == port {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

// checkServices: every Service with a selector selects a Deployment's pods, on ports they declare.
func checkServices(t *testing.T, b *build, deps map[string]*appsv1.Deployment) {
	t.Helper()
	for _, o := range b.objects {
		s, ok := o.obj.(*corev1.Service)
		if !ok || s.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		var match *appsv1.Deployment
		for _, d := range deps {
			if len(s.Spec.Selector) > 0 && subset(s.Spec.Selector, d.Spec.Template.Labels) {
				match = d
			}
		}
		if match == nil {
			t.Errorf("Service %s selects no Deployment's pods", s.Name)
			continue
		}
		for _, p := range s.Spec.Ports {
			found := false
			for _, c := range match.Spec.Template.Spec.Containers {
				if _, ok := containerPort(c, p.TargetPort.String()); ok {
					found = true
				}
			}
			if !found {
				t.Errorf("Service %s: targetPort %s is no port of %s's containers", s.Name, p.TargetPort.String(), match.Name)
			}
		}
	}
	for name, d := range deps {
		if !subset(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			t.Errorf("Deployment %s: selector does not match its pod labels", name)
		}
	}
}

func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// checkExternal: each external service of the base gets its real address from the overlay.
func checkExternal(t *testing.T, dir string, b *build) {
	t.Helper()
	var names []string
	for _, o := range b.objects {
		if s, ok := o.obj.(*corev1.Service); ok && s.Spec.Type == corev1.ServiceTypeExternalName {
			names = append(names, s.Name)
		}
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "clickhouse,kafka,redis" {
		t.Errorf("external services %v: want clickhouse, kafka, redis", names)
	}
	for _, n := range names {
		host := b.find("Service", n).(*corev1.Service).Spec.ExternalName
		for _, p := range b.patches {
			if s, ok := p.obj.(*corev1.Service); ok && p.name == n && s.Spec.ExternalName != "" {
				host = s.Spec.ExternalName
			}
		}
		if strings.HasSuffix(host, ".invalid") {
			t.Errorf("%s does not set the address of the external service %s (still %s)", dir, n, host)
		}
	}
}
