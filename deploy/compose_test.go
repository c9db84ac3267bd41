// Package deploy_test checks the deployment files users run where no Docker engine is available here:
// docker-compose.yml must load and validate with the Compose specification's own loader.
package deploy_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads docker-compose.yml with the Compose specification's own loader, nothing set in .env.
func loadCompose(t *testing.T) (root string, p *types.Project) {
	t.Helper()
	return loadComposeEnv(t, types.Mapping{})
}

// loadComposeEnv loads docker-compose.yml as `docker compose` does with env as the user's environment (.env).
func loadComposeEnv(t *testing.T, env types.Mapping) (root string, p *types.Project) {
	t.Helper()
	root, _ = filepath.Abs("..")
	path := filepath.Join(root, "docker-compose.yml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err = loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: path, Content: b}},
		Environment: env,
	}, func(o *loader.Options) { o.SetProjectName("teplokarta", true) })
	if err != nil {
		t.Fatalf("compose file does not validate: %v", err)
	}
	return root, p
}

func TestComposeFileIsValid(t *testing.T) {
	root, p := loadCompose(t)
	images := map[string]string{"kafka": "apache/kafka:", "clickhouse": "clickhouse/clickhouse-server:25.8", "redis": "redis:7",
		"grafana": "grafana/grafana:12", "prometheus": "prom/prometheus:v3"}
	for name, prefix := range images {
		s, ok := p.Services[name]
		if !ok {
			t.Errorf("service %s missing", name)
			continue
		}
		if !strings.HasPrefix(s.Image, prefix) {
			t.Errorf("service %s runs %s, want %s*", name, s.Image, prefix)
		}
	}
	for _, name := range []string{"migrate", "ingest", "processor", "sla", "simulator"} {
		s, ok := p.Services[name]
		if !ok {
			t.Errorf("teplokarta service %s missing", name)
			continue
		}
		if s.Image != "teplokarta:local" {
			t.Errorf("%s uses image %s, want the repo's teplokarta:local", name, s.Image)
		}
		if s.Environment["TEPLOKARTA_BROKERS"] == nil || *s.Environment["TEPLOKARTA_BROKERS"] != "kafka:9092" {
			t.Errorf("%s does not point at the compose Kafka", name)
		}
	}
	if p.Services["migrate"].Build == nil {
		t.Error("the teplokarta image must be built from the repo's Dockerfile")
	}
	// Everything mounted from the repo must exist.
	for _, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if strings.HasSuffix(v.Source, "plugin/dist") || strings.HasSuffix(v.Source, "plugin/dist-panel") {
				continue // both built by `make plugin` before `docker compose up`
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s mounts %s, which does not exist", s.Name, v.Source)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(root, "Dockerfile")); err != nil {
		t.Error("Dockerfile missing")
	}
}
