package k8s_test

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// render runs the real Kustomize (kubectl's, or a kustomize binary) on dir and decodes its output
// strictly, its generated data in the build's maps under the hashed names. It skips when neither is
// installed: the folded build (load) is then all the other tests check.
func render(t *testing.T, dir string) *build {
	t.Helper()
	var cmd *exec.Cmd
	if p, err := exec.LookPath("kustomize"); err == nil {
		cmd = exec.Command(p, "build", dir)
	} else if p, err := exec.LookPath("kubectl"); err == nil {
		cmd = exec.Command(p, "kustomize", dir)
	} else {
		t.Skip("neither kustomize nor kubectl on PATH: the rendered manifests are not checked")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	objs, err := decodeDocs(dir+" (rendered)", out)
	if err != nil {
		t.Fatal(err)
	}
	b := &build{objects: objs, replicas: map[string]int32{}, configMaps: map[string]map[string]entry{}, secrets: map[string]map[string]entry{}}
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *corev1.ConfigMap:
			b.configMaps[o.name] = map[string]entry{}
			for k, d := range v.Data {
				b.configMaps[o.name][k] = entry{value: d}
			}
		case *corev1.Secret:
			b.secrets[o.name] = map[string]entry{}
			for k, d := range v.Data {
				b.secrets[o.name][k] = entry{value: string(d)}
			}
		}
	}
	return b
}

// builds returns each overlay folded by this test and, when Kustomize is installed, rendered by it.
func builds(t *testing.T) map[string]*build {
	t.Helper()
	out := map[string]*build{}
	for _, dir := range overlays(t) {
		out[dir] = mustLoad(t, dir)
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		if _, err := exec.LookPath("kustomize"); err != nil {
			t.Log("neither kustomize nor kubectl on PATH: only the folded manifests are checked")
			return out
		}
	}
	for _, dir := range overlays(t) {
		out[dir+"/rendered"] = render(t, dir)
	}
	return out
}

var hashSuffix = regexp.MustCompile(`^(.+)-[a-z0-9]{10}$`)

// TestRenderedMatchesFolded: Kustomize's own build has the generated data this test folds, under
// hashed names, every object in the overlay's namespace, and the overlay's images.
func TestRenderedMatchesFolded(t *testing.T) {
	for _, dir := range overlays(t) {
		t.Run(dir, func(t *testing.T) {
			folded := mustLoad(t, dir)
			r := render(t, dir)
			for kind, pair := range map[string][2]map[string]map[string]entry{
				"ConfigMap": {folded.configMaps, r.configMaps},
				"Secret":    {folded.secrets, r.secrets},
			} {
				seen := map[string]bool{}
				for name, data := range pair[1] {
					m := hashSuffix.FindStringSubmatch(name)
					if m == nil {
						t.Errorf("%s %s: no content hash in its name", kind, name)
						continue
					}
					want, ok := pair[0][m[1]]
					if !ok {
						t.Errorf("%s %s: not among the folded generators", kind, name)
						continue
					}
					seen[m[1]] = true
					if len(want) != len(data) {
						t.Errorf("%s %s: %d keys, folded %d", kind, m[1], len(data), len(want))
					}
					for k, e := range want {
						wb, err := e.content()
						if err != nil {
							t.Fatal(err)
						}
						if got, ok := data[k]; !ok || got.value != string(wb) {
							t.Errorf("%s %s: key %s differs from the folded build", kind, m[1], k)
						}
					}
				}
				for name := range pair[0] {
					if !seen[name] {
						t.Errorf("%s %s: folded but not rendered", kind, name)
					}
				}
			}
			var ns string
			for _, o := range r.objects {
				if ns == "" {
					if n, ok := o.obj.(*corev1.Namespace); ok {
						ns = n.Name
					}
				}
			}
			for name, pod := range r.podSpecs() {
				for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
					if !strings.Contains(c.Image, "/") || !strings.Contains(c.Image, ":") {
						t.Errorf("%s/%s: image %q is neither a registry's nor tagged", name, c.Name, c.Image)
					}
				}
			}
			if ns == "" {
				t.Fatal("the overlay creates no Namespace")
			}
			for _, o := range r.objects {
				if _, isNS := o.obj.(*corev1.Namespace); !isNS && objNamespace(o) != ns {
					t.Errorf("%s/%s: namespace %q, want %q", o.kind, o.name, objNamespace(o), ns)
				}
			}
		})
	}
}
