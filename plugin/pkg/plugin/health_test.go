package plugin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

func (h *harness) health() *backend.CheckHealthResult {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := h.tp.Client.CheckHealth(ctx, &backend.CheckHealthRequest{PluginContext: h.pctx})
	if err != nil {
		h.t.Fatalf("CheckHealth transport: %v", err)
	}
	return r
}

func TestHealth(t *testing.T) {
	want := chstore.Latest(chstore.ProjectMigrations())
	t.Run("all good", func(t *testing.T) {
		h := newHarness(t, false, nil)
		r := h.health()
		msg := fmt.Sprintf("ClickHouse 18.16.1 at %s, database %s, schema %s; Redis at %s OK", h.ch.Addr, h.ch.Database, want, testenv.RedisAddr(t))
		if r.Status != backend.HealthStatusOk || r.Message != msg {
			t.Fatalf("%v %q\nwant %q", r.Status, r.Message, msg)
		}
	})
	t.Run("no Redis configured is fine and said", func(t *testing.T) {
		h := newHarness(t, false, map[string]any{"redisAddr": ""})
		if r := h.health(); r.Status != backend.HealthStatusOk || !strings.HasSuffix(r.Message, "; Redis not configured (variable lists are not cached)") {
			t.Fatalf("%v %q", r.Status, r.Message)
		}
	})
	cases := []struct {
		name  string
		setup func(t *testing.T) *harness
		want  string
	}{
		{"ClickHouse down", func(t *testing.T) *harness {
			return newHarness(t, false, map[string]any{"port": freePort(t)})
		}, "ClickHouse at 127.0.0.1:%d is unreachable: "},
		{"Redis down", func(t *testing.T) *harness {
			return newHarness(t, false, map[string]any{"redisAddr": fmt.Sprintf("127.0.0.1:%d", freePort(t))})
		}, "Redis at 127.0.0.1:%d is unreachable: "},
		{"empty database", func(t *testing.T) *harness {
			cfg := testenv.ClickHouseConfig(t)
			conn, err := chstore.Open(context.Background(), cfg) // creates the database, applies nothing
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+cfg.Database); conn.Close() })
			return startPlugin(t, conn, cfg, nil)
		}, "database %s has no schema (schema_migrations is missing): run `teplokarta migrate`"},
		{"old schema", func(t *testing.T) *harness {
			h := newHarness(t, false, nil)
			if err := h.conn.Exec(context.Background(), "TRUNCATE TABLE schema_migrations"); err != nil {
				t.Fatal(err)
			}
			if _, err := chstore.Migrate(context.Background(), h.conn, chstore.ProjectMigrations()[:1]); err != nil {
				t.Fatal(err)
			}
			return h
		}, "database %s is at schema version " + chstore.ProjectMigrations()[0].ID + ", the plugin expects " + want + ": run `teplokarta migrate`"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := c.setup(t)
			r := h.health()
			var msg string
			switch {
			case strings.HasPrefix(c.want, "ClickHouse"):
				msg = fmt.Sprintf(c.want, int(h.jsonMap["port"].(int)))
			case strings.HasPrefix(c.want, "Redis"):
				var p int
				fmt.Sscanf(h.jsonMap["redisAddr"].(string), "127.0.0.1:%d", &p)
				msg = fmt.Sprintf(c.want, p)
			default:
				msg = fmt.Sprintf(c.want, h.ch.Database)
			}
			if r.Status != backend.HealthStatusError || !strings.HasPrefix(r.Message, msg) {
				t.Fatalf("%v %q\nwant prefix %q", r.Status, r.Message, msg)
			}
		})
	}
}

func freePort(t testing.TB) int {
	var p int
	fmt.Sscanf(freeAddr(t), "127.0.0.1:%d", &p)
	return p
}
