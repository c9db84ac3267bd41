package k8s_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// kustomization is the subset of Kustomize's file these manifests use. It is decoded strictly too, so a
// field this test does not understand (and so does not check) is an error rather than silently ignored.
type kustomization struct {
	APIVersion         string      `json:"apiVersion"`
	Kind               string      `json:"kind"`
	Namespace          string      `json:"namespace,omitempty"`
	Labels             []labelSet  `json:"labels,omitempty"`
	Resources          []string    `json:"resources,omitempty"`
	Patches            []patchRef  `json:"patches,omitempty"`
	Replicas           []replicas  `json:"replicas,omitempty"`
	ConfigMapGenerator []generator `json:"configMapGenerator,omitempty"`
	SecretGenerator    []generator `json:"secretGenerator,omitempty"`
	Images             []image     `json:"images,omitempty"`
}

type labelSet struct {
	Pairs map[string]string `json:"pairs"`
}

type patchRef struct {
	Path string `json:"path"`
}

type replicas struct {
	Name  string `json:"name"`
	Count int32  `json:"count"`
}

type generator struct {
	Name     string   `json:"name"`
	Behavior string   `json:"behavior,omitempty"`
	Literals []string `json:"literals,omitempty"`
	Files    []string `json:"files,omitempty"`
}

type image struct {
	Name    string `json:"name"`
	NewName string `json:"newName,omitempty"`
	NewTag  string `json:"newTag,omitempty"`
}

// newObject returns the typed object of an apiVersion and kind: the only kinds these manifests may use.
func newObject(apiVersion, kind string) (any, error) {
	switch apiVersion + " " + kind {
	case "v1 Service":
		return &corev1.Service{}, nil
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1 Secret":
		return &corev1.Secret{}, nil
	case "v1 Namespace":
		return &corev1.Namespace{}, nil
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, nil
	case "batch/v1 Job":
		return &batchv1.Job{}, nil
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "rbac.authorization.k8s.io/v1 Role":
		return &rbacv1.Role{}, nil
	case "rbac.authorization.k8s.io/v1 RoleBinding":
		return &rbacv1.RoleBinding{}, nil
	}
	return nil, fmt.Errorf("unknown apiVersion %q kind %q", apiVersion, kind)
}

// object is one decoded document.
type object struct {
	file string
	kind string
	name string
	obj  any
}

// decodeDocs decodes every YAML document of a manifest file strictly into its typed object.
func decodeDocs(file string, b []byte) ([]object, error) {
	var out []object
	for i, doc := range splitDocs(b) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, i+1, err)
		}
		obj, err := newObject(tm.APIVersion, tm.Kind)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, i+1, err)
		}
		if err := unmarshalStrict(doc, obj); err != nil {
			return nil, fmt.Errorf("%s: document %d (%s): %w", file, i+1, tm.Kind, err)
		}
		name := obj.(metav1.Object).GetName()
		if name == "" {
			return nil, fmt.Errorf("%s: document %d (%s): no metadata.name", file, i+1, tm.Kind)
		}
		out = append(out, object{file: file, kind: tm.Kind, name: name, obj: obj})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no documents", file)
	}
	return out, nil
}

// unmarshalStrict decodes YAML as the API server's strict field validation does: duplicate keys,
// unknown fields and fields matched only case-insensitively (which encoding/json would accept) are errors.
func unmarshalStrict(doc []byte, obj any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := sigsjson.UnmarshalStrict(j, obj)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// splitDocs splits a YAML stream at its "---" lines, dropping documents of only comments or blanks.
func splitDocs(b []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		for _, l := range strings.Split(cur.String(), "\n") {
			if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
				docs = append(docs, bytes.Clone(cur.Bytes()))
				break
			}
		}
		cur.Reset()
	}
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if strings.TrimRight(l, "\r\n") == "---" {
			flush()
			continue
		}
		cur.WriteString(l)
	}
	flush()
	return docs
}

// entry is one key of a generated ConfigMap or Secret: a literal value or a file of the repository.
type entry struct {
	value string
	file  string
}

func (e entry) content() ([]byte, error) {
	if e.file != "" {
		return os.ReadFile(e.file)
	}
	return []byte(e.value), nil
}

// build is a kustomization with its bases folded in, as far as this test needs: the objects, the
// patches (not applied; their targets are checked), the replica counts and the generated data.
type build struct {
	objects    []object
	patches    []object
	replicas   map[string]int32
	configMaps map[string]map[string]entry
	secrets    map[string]map[string]entry
}

// load reads the kustomization in dir and, recursively, every folder it lists as a resource.
func load(dir string) (*build, error) {
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	var k kustomization
	if err := unmarshalStrict(b, &k); err != nil {
		return nil, fmt.Errorf("%s/kustomization.yaml: %w", dir, err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		return nil, fmt.Errorf("%s/kustomization.yaml: apiVersion %q kind %q", dir, k.APIVersion, k.Kind)
	}
	out := &build{replicas: map[string]int32{}, configMaps: map[string]map[string]entry{}, secrets: map[string]map[string]entry{}}
	for _, r := range k.Resources {
		p := filepath.Join(dir, r)
		if st, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%s: resource %s: %w", dir, r, err)
		} else if st.IsDir() {
			sub, err := load(p)
			if err != nil {
				return nil, err
			}
			out.merge(sub)
			continue
		}
		objs, err := decodeFile(p)
		if err != nil {
			return nil, err
		}
		out.objects = append(out.objects, objs...)
	}
	for _, p := range k.Patches {
		objs, err := decodeFile(filepath.Join(dir, p.Path))
		if err != nil {
			return nil, err
		}
		out.patches = append(out.patches, objs...)
	}
	for _, r := range k.Replicas {
		out.replicas[r.Name] = r.Count
	}
	if err := generate(dir, k.ConfigMapGenerator, out.configMaps); err != nil {
		return nil, err
	}
	if err := generate(dir, k.SecretGenerator, out.secrets); err != nil {
		return nil, err
	}
	return out, nil
}

func decodeFile(p string) ([]object, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return decodeDocs(p, b)
}

// merge folds a base into b (b's own settings, read after, win).
func (b *build) merge(base *build) {
	b.objects = append(b.objects, base.objects...)
	b.patches = append(b.patches, base.patches...)
	for k, v := range base.replicas {
		b.replicas[k] = v
	}
	for k, v := range base.configMaps {
		b.configMaps[k] = v
	}
	for k, v := range base.secrets {
		b.secrets[k] = v
	}
}

// generate applies generators to the data generated so far, with Kustomize's behaviors.
func generate(dir string, gens []generator, into map[string]map[string]entry) error {
	for _, g := range gens {
		data := map[string]entry{}
		for _, l := range g.Literals {
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				return fmt.Errorf("%s: generator %s: literal %q has no =", dir, g.Name, l)
			}
			data[k] = entry{value: v}
		}
		for _, f := range g.Files {
			key, path, ok := strings.Cut(f, "=")
			if !ok {
				key, path = filepath.Base(f), f
			}
			p := filepath.Join(dir, path)
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("%s: generator %s: %w", dir, g.Name, err)
			}
			data[key] = entry{file: p}
		}
		_, exists := into[g.Name]
		switch g.Behavior {
		case "", "create":
			if exists {
				return fmt.Errorf("%s: generator %s already exists (behavior merge or replace?)", dir, g.Name)
			}
			into[g.Name] = data
		case "replace", "merge":
			if !exists {
				return fmt.Errorf("%s: generator %s: behavior %s but no base generates it", dir, g.Name, g.Behavior)
			}
			if g.Behavior == "merge" {
				for k, v := range data {
					into[g.Name][k] = v
				}
			} else {
				into[g.Name] = data
			}
		default:
			return fmt.Errorf("%s: generator %s: unknown behavior %q", dir, g.Name, g.Behavior)
		}
	}
	return nil
}

// podSpecs returns the pod templates of the workloads by their object name.
func (b *build) podSpecs() map[string]*corev1.PodTemplateSpec {
	out := map[string]*corev1.PodTemplateSpec{}
	for _, o := range b.objects {
		switch v := o.obj.(type) {
		case *appsv1.Deployment:
			out["Deployment/"+o.name] = &v.Spec.Template
		case *batchv1.Job:
			out["Job/"+o.name] = &v.Spec.Template
		}
	}
	return out
}

// find returns the object of a kind and name.
func (b *build) find(kind, name string) any {
	for _, o := range b.objects {
		if o.kind == kind && o.name == name {
			return o.obj
		}
	}
	return nil
}

// deployments returns the Deployments with the overlay's replica counts applied.
func (b *build) deployments() map[string]*appsv1.Deployment {
	out := map[string]*appsv1.Deployment{}
	for _, o := range b.objects {
		if d, ok := o.obj.(*appsv1.Deployment); ok {
			d = d.DeepCopy()
			if n, ok := b.replicas[o.name]; ok {
				d.Spec.Replicas = &n
			}
			out[o.name] = d
		}
	}
	return out
}

func objNamespace(o object) string { return o.obj.(metav1.Object).GetNamespace() }

// isTeplokarta tells the containers of the teplokarta image, before or after Kustomize's images rewrite.
func isTeplokarta(image string) bool {
	name, _, _ := strings.Cut(image[strings.LastIndex(image, "/")+1:], ":")
	return name == "teplokarta"
}
