package chstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

func TestRemoteNamesItsCredentials(t *testing.T) {
	topo := chstore.Topology{Replicas: []string{"h1:9000", "h2:9000"}}
	for _, c := range []struct {
		auth chstore.Auth
		want string
	}{
		{chstore.Auth{}, `remote('h1:9000,h2:9000', db, t, 'default', '')`},
		{chstore.Auth{User: "tk", Password: "pw"}, `remote('h1:9000,h2:9000', db, t, 'tk', 'pw')`},
		{chstore.Auth{User: "tk", Password: `it's a \ pw`}, `remote('h1:9000,h2:9000', db, t, 'tk', 'it\'s a \\ pw')`},
	} {
		topo.Auth = c.auth
		if got := topo.Remote("db", "t"); got != c.want {
			t.Errorf("%v: Remote = %s, want %s", c.auth, got, c.want)
		}
	}
}

// TestAuthNeverShowsThePassword: a Topology or an Auth printed or logged keeps the password out.
func TestAuthNeverShowsThePassword(t *testing.T) {
	const secret = "s3cr3t-value"
	topo := chstore.Topology{Cluster: "c", Replicas: []string{"h:9000"}, Auth: chstore.Auth{User: "tk", Password: secret}}
	var log strings.Builder
	slog.New(slog.NewTextHandler(&log, nil)).Info("topology", "auth", topo.Auth)
	for _, s := range []string{fmt.Sprint(topo), fmt.Sprintf("%+v", topo), fmt.Sprintf("%v", topo.Auth), log.String()} {
		if strings.Contains(s, secret) {
			t.Errorf("the password is shown: %s", s)
		}
		if !strings.Contains(s, "tk") {
			t.Errorf("the user is not shown: %s", s)
		}
	}
}

// TestRemoteLogsInAsItsUser runs remote() on the test server: with the server's own credentials it
// answers, with a password the user does not have ClickHouse refuses it, so the credentials reach it (a
// quote and a backslash in them included). A replica on the server's own address is read without logging in
// (prefer_localhost_replica), so the test turns that off: on a cluster the other replicas are remote.
func TestRemoteLogsInAsItsUser(t *testing.T) {
	conn, cfg := testenv.ClickHouse(t)
	ctx := clickhouse.Context(context.Background(), clickhouse.WithSettings(clickhouse.Settings{"prefer_localhost_replica": 0}))
	topo := chstore.Topology{Replicas: cfg.Addrs(), Auth: cfg.Auth()}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+topo.Remote("system", "one")).Scan(&n); err != nil || n != 1 {
		t.Fatalf("remote() as %v: %d rows, %v", topo.Auth, n, err)
	}
	topo.Auth.Password = cfg.Password + `wrong'\`
	err := conn.QueryRow(ctx, "SELECT count() FROM "+topo.Remote("system", "one")).Scan(&n)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "password") {
		t.Fatalf("remote() with a wrong password: %v, want ClickHouse's refusal", err)
	}
}
