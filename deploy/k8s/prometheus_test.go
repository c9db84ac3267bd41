package k8s_test

import (
	"path"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// fileAt returns the content a container sees at an absolute path from its ConfigMap and Secret mounts.
func fileAt(t *testing.T, b *build, pod *corev1.PodTemplateSpec, c corev1.Container, p string) ([]byte, bool) {
	t.Helper()
	for _, m := range c.VolumeMounts {
		key := ""
		switch {
		case m.SubPath != "" && p == m.MountPath:
			key = m.SubPath
		case m.SubPath == "" && path.Dir(p) == path.Clean(m.MountPath):
			key = path.Base(p)
		default:
			continue
		}
		data := volumeData(t, b, pod, m.Name)
		if e, ok := data[key]; ok {
			v, err := e.content()
			if err != nil {
				t.Fatal(err)
			}
			return v, true
		}
	}
	return nil, false
}

// TestPrometheus: the Prometheus container finds its config and every rule file it names in its mounts,
// the config discovers pods by the annotations and label the workloads carry, and its service account
// may list and watch pods.
func TestPrometheus(t *testing.T) {
	for dir, b := range builds(t) {
		t.Run(dir, func(t *testing.T) {
			d, ok := b.deployments()["prometheus"]
			if !ok {
				t.Fatal("no prometheus Deployment")
			}
			pod := &d.Spec.Template
			c := pod.Spec.Containers[0]
			var cfgPath string
			for _, a := range c.Args {
				if v, ok := strings.CutPrefix(a, "--config.file="); ok {
					cfgPath = v
				}
			}
			raw, ok := fileAt(t, b, pod, c, cfgPath)
			if !ok {
				t.Fatalf("--config.file=%q is not in the container's mounts", cfgPath)
			}
			var cfg struct {
				RuleFiles     []string `json:"rule_files"`
				ScrapeConfigs []struct {
					JobName             string           `json:"job_name"`
					KubernetesSDConfigs []map[string]any `json:"kubernetes_sd_configs"`
					RelabelConfigs      []struct {
						SourceLabels []string `json:"source_labels"`
						TargetLabel  string   `json:"target_label"`
						Action       string   `json:"action"`
					} `json:"relabel_configs"`
				} `json:"scrape_configs"`
			}
			if err := yaml.Unmarshal(raw, &cfg); err != nil {
				t.Fatal(err)
			}
			if len(cfg.RuleFiles) == 0 {
				t.Error("prometheus.yml loads no rule files")
			}
			for _, r := range cfg.RuleFiles {
				if rb, ok := fileAt(t, b, pod, c, r); !ok || !strings.Contains(string(rb), "groups:") {
					t.Errorf("rule file %s: not mounted, or no rule groups", r)
				}
			}
			var sources []string
			job := false
			for _, sc := range cfg.ScrapeConfigs {
				if len(sc.KubernetesSDConfigs) == 0 || sc.KubernetesSDConfigs[0]["role"] != "pod" {
					continue
				}
				for _, rc := range sc.RelabelConfigs {
					sources = append(sources, rc.SourceLabels...)
					if rc.TargetLabel == "job" && slices.Equal(rc.SourceLabels, []string{"__meta_kubernetes_pod_label_app_kubernetes_io_name"}) {
						job = true
					}
				}
			}
			for _, want := range []string{"__meta_kubernetes_pod_annotation_prometheus_io_scrape", "__meta_kubernetes_pod_annotation_prometheus_io_port"} {
				if !slices.Contains(sources, want) {
					t.Errorf("no pod-role scrape config relabels %s", want)
				}
			}
			if !job {
				t.Error("no pod-role scrape config sets job from app.kubernetes.io/name")
			}
			checkPodRBAC(t, b, d)
		})
	}
}

// checkPodRBAC: the Deployment's service account is bound to a Role that lists and watches pods.
func checkPodRBAC(t *testing.T, b *build, d *appsv1.Deployment) {
	t.Helper()
	sa := d.Spec.Template.Spec.ServiceAccountName
	if sa == "" || b.find("ServiceAccount", sa) == nil {
		t.Fatalf("service account %q of %s is not created", sa, d.Name)
	}
	for _, o := range b.objects {
		rb, ok := o.obj.(*rbacv1.RoleBinding)
		if !ok || !slices.ContainsFunc(rb.Subjects, func(s rbacv1.Subject) bool { return s.Kind == "ServiceAccount" && s.Name == sa }) {
			continue
		}
		role, _ := b.find("Role", rb.RoleRef.Name).(*rbacv1.Role)
		if rb.RoleRef.Kind != "Role" || role == nil {
			continue
		}
		for _, r := range role.Rules {
			if slices.Contains(r.APIGroups, "") && slices.Contains(r.Resources, "pods") &&
				slices.Contains(r.Verbs, "list") && slices.Contains(r.Verbs, "watch") {
				return
			}
		}
	}
	t.Errorf("service account %s may not list and watch pods", sa)
}
