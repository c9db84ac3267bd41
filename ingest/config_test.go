package ingest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/internal/sources"
)

func TestExampleConfig(t *testing.T) {
	cfg, err := ingest.LoadConfig(filepath.Join("..", "deploy", "ingest.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Source("112").Auth.Secret == "" || cfg.Source("nashdom").RateLimit.Burst != 400 || cfg.Source("pos").MaxBodyBytes != 256<<10 ||
		cfg.Kafka.BatchTimeout != 2*time.Millisecond || len(cfg.VK.Poller.Communities) != 3 || cfg.Source("gis_zhkh").Auth.Mode != ingest.AuthHMAC {
		t.Fatalf("%+v", cfg)
	}
	reg, err := cfg.Registry()
	if err != nil {
		t.Fatal(err)
	}
	a, err := reg.Parse("gis_zhkh", []byte(`{"ticket":{"number":42,"subject":"Отопление","body":"Холодно в квартире","created":1795690000},"place":{"city":"Рязань","geo":[54.6,39.7]},"applicant":{"phone":"+79000000000"}}`),
		sources.Meta{ReceivedAt: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)})
	if err != nil || a.ID != "gis_zhkh:42" || a.Text != "Отопление. Холодно в квартире" || a.AuthorHash == "" {
		t.Fatalf("%v %+v", err, a)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := ingest.DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	tests := []struct {
		name, yaml, want string
	}{
		{"open on public address", "listen: 0.0.0.0:8080\n", "no auth"},
		{"typo key", "sources:\n  pos:\n    auht: {mode: token}\n", "auht"},
		{"token without secret", "sources:\n  pos:\n    auth: {mode: token}\n", "needs a secret"},
		{"bad mode", "sources:\n  pos:\n    auth: {mode: basic, secret: x}\n", "auth mode"},
		{"generic under sources", "sources:\n  gis:\n    auth: {mode: none}\n", "not a built-in"},
		{"generic without mapping", "generic:\n  - name: gis\n    mapping: {id: n}\n", "mapping.text"},
		{"generic with built-in name", "generic:\n  - name: vk\n    mapping: {id: n, text: t, event_time: d}\n", "built-in"},
		{"poller without communities", "vk:\n  poller: {enabled: true}\n", "vk.poller"},
		{"secret and secret_file", "sources:\n  pos:\n    auth: {mode: token, secret: x, secret_file: pos.token}\n", "not both"},
		{"secret_file missing", "sources:\n  pos:\n    auth: {mode: token, secret_file: nowhere.token}\n", "nowhere.token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(p, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := ingest.LoadConfig(p)
			if err == nil {
				err = cfg.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	public := ingest.DefaultConfig()
	public.Listen, public.AllowUnauthenticated = "0.0.0.0:8080", true
	if err := public.Validate(); err != nil {
		t.Fatalf("allow_unauthenticated: %v", err)
	}
}

// TestSecretFile: a secret_file is read relative to the config file, trimmed of its newline, and used
// exactly like an inline secret.
func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"pos.token": "tok-1\n", "vk.secret": "cb-2\n",
		"c.yaml": "sources:\n  pos:\n    auth: {mode: token, secret_file: pos.token, header: X-Pos-Token}\nvk: {secret_file: vk.secret}\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := ingest.LoadConfig(filepath.Join(dir, "c.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Source("pos").Auth.Secret; got != "tok-1" {
		t.Errorf("pos secret %q", got)
	}
	if cfg.VK.Secret != "cb-2" {
		t.Errorf("vk secret %q", cfg.VK.Secret)
	}
}
