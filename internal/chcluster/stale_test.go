package chcluster_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/chstore"
)

// TestReadsSkipAStaleReplica: replica 2 lags for real (its fetches stopped) while replica 1 takes an
// row. A client of replica 2 reading through the Distributed table with chstore's default settings
// reads replica 1 once replica 2 is more than MaxReplicaDelay behind; with the server's own default (5
// minutes: MaxReplicaDelay negative) it keeps reading its stale local replica, which shows that the lag
// was there to skip.
func TestReadsSkipAStaleReplica(t *testing.T) {
	addrs := os.Getenv(envCluster)
	if addrs == "" {
		t.Skipf("%s is not set (deploy/local/cluster.sh start; eval its env)", envCluster)
	}
	replicas := strings.Split(addrs, ",")
	if len(replicas) != 2 {
		t.Fatalf("%s: want the 2 servers of cluster.sh, got %q", envCluster, addrs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := chstoreConfig(fmt.Sprintf("stale_%d", time.Now().UnixNano()))
	cfg.Addr = addrs
	mig, err := chstore.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = mig.Exec(context.Background(), "DROP DATABASE IF EXISTS "+cfg.Database+" ON CLUSTER "+cluster)
		mig.Close()
	})
	if _, err := chstore.MigrateCluster(ctx, mig, chstore.ProjectMigrations(), cluster, cfg.Database, cfg.Auth()); err != nil {
		t.Fatal(err)
	}
	const maxDelay = 2 * time.Second
	openAt := func(addr string, delay time.Duration) driver.Conn {
		c := cfg
		c.Addr, c.MaxReplicaDelay = addr, delay
		conn, err := chstore.Open(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	writer, fresh, stale := openAt(replicas[0], 0), openAt(replicas[1], maxDelay), openAt(replicas[1], -1)

	if err := fresh.Exec(ctx, "SYSTEM STOP FETCHES appeal_sla_local"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fresh.Exec(context.Background(), "SYSTEM START FETCHES appeal_sla_local") })
	// Into replica 1's own table: an INSERT through the Distributed table may pick either replica.
	b, err := writer.PrepareBatch(ctx, "INSERT INTO appeal_sla_local (appeal_id, region, status, received_time, version)")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append("vk:stale", "RU-RYA", "assigned", time.Now(), uint64(1)); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "replica 2 more than the delay behind", func() (bool, string) {
		var delay uint64
		err := fresh.QueryRow(ctx, `SELECT absolute_delay FROM system.replicas
			WHERE database = currentDatabase() AND table = 'appeal_sla_local'`).Scan(&delay)
		return err == nil && time.Duration(delay)*time.Second > maxDelay, fmt.Sprintf("absolute_delay %d s, %v", delay, err)
	})
	count := func(c driver.Conn) uint64 {
		var n uint64
		if err := c.QueryRow(ctx, "SELECT count() FROM appeal_sla").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(stale); n != 0 {
		t.Fatalf("with the server's default delay replica 2 answered %d rows: it does not lag, the test would show nothing", n)
	}
	if n := count(fresh); n != 1 {
		t.Errorf("replica 2 more than %s behind answered %d rows through the Distributed table, want 1 (replica 1's)", maxDelay, n)
	}
}
