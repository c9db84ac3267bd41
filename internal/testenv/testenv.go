// Package testenv hands tests the real components: a fresh ClickHouse database, a Redis key prefix and an
// embedded Kafka-protocol broker. `make test` starts ClickHouse and Redis (deploy/local/stack.sh) and
// exports their addresses; a test that needs them and finds none fails with instructions, it never skips.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/broker"
	"github.com/teplokarta/teplokarta/internal/chstore"
)

// Environment variables set by `make test`.
const (
	EnvClickHouse = "TEPLOKARTA_TEST_CLICKHOUSE" // host:port of ClickHouse's native protocol
	EnvRedis      = "TEPLOKARTA_TEST_REDIS"      // host:port of Redis
)

func need(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, or start deploy/local/stack.sh and export %s", env, env)
	}
	return v
}

func suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// ClickHouseConfig returns the config of a fresh, not yet created database named after the test.
func ClickHouseConfig(t testing.TB) chstore.Config {
	t.Helper()
	cfg := chstore.DefaultConfig()
	cfg.Addr = need(t, EnvClickHouse)
	name := nonIdent.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	cfg.Database = "t_" + name + "_" + suffix()
	return cfg
}

// ClickHouse opens a fresh database with the project's migrations applied; it is dropped after the test.
func ClickHouse(t testing.TB) (driver.Conn, chstore.Config) {
	t.Helper()
	cfg := ClickHouseConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := chstore.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if _, err := chstore.MigrateProject(ctx, conn); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+cfg.Database)
		conn.Close()
	})
	return conn, cfg
}

// Redis returns a client and a key prefix unique to this test; the prefix's keys are deleted afterwards.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	addr := need(t, EnvRedis)
	c := redis.NewClient(&redis.Options{Addr: addr})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("testenv: redis at %s: %v", addr, err)
	}
	prefix := "t:" + suffix() + ":"
	t.Cleanup(func() {
		// A 100k-appeal test leaves a few hundred thousand keys: unlink them a scan page at a time, not
		// one round trip per key.
		ctx := context.Background()
		for cursor := uint64(0); ; {
			keys, next, err := c.Scan(ctx, cursor, prefix+"*", 5000).Result()
			if err != nil {
				t.Logf("testenv: redis cleanup: %v", err)
				break
			}
			if len(keys) > 0 {
				c.Unlink(ctx, keys...)
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		c.Close()
	})
	return c, prefix
}

// RedisAddr returns the test Redis address for components that open their own client.
func RedisAddr(t testing.TB) string { t.Helper(); return need(t, EnvRedis) }

// Broker starts an embedded broker on a free loopback port with the default topics, persisted in a
// temp dir, closed after the test.
func Broker(t testing.TB) *broker.Broker {
	t.Helper()
	cfg := broker.DefaultConfig()
	cfg.Port = 0
	cfg.DataDir = t.TempDir()
	b, err := broker.Start(cfg, nil)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

// EnvSharedData names the folder of the shared reference data (train.csv, geo); CI lays it beside the
// checkout as ../shared/data.
const EnvSharedData = "TEPLOKARTA_SHARED_DATA"

// SharedData returns the shared data folder: $TEPLOKARTA_SHARED_DATA, else shared/data beside the
// checkout (found by walking up to go.mod). A test that needs it fails when it is missing.
func SharedData(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(EnvSharedData); d != "" {
		return d
	}
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "data")
			if _, err := os.Stat(d); err != nil {
				t.Fatalf("shared data not found at %s: set %s", d, EnvSharedData)
			}
			return d
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("go.mod not found above the test; set %s", EnvSharedData)
		}
		dir = parent
	}
}

// RedisUsedMemory returns Redis's used_memory: benchmarks report the state they leave per item.
func RedisUsedMemory(t testing.TB, rdb redis.UniversalClient) int64 {
	t.Helper()
	var info map[string]map[string]string
	// Keys another test UNLINKed are freed by a background thread: wait for it, or their memory leaves
	// used_memory in the middle of this caller's measurement (a benchmark after BenchmarkRedisMemoryPerAppeal
	// read negative bytes per appeal).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		info, err = rdb.InfoMap(context.Background(), "memory").Result()
		if err != nil {
			t.Fatalf("testenv: redis INFO memory: %v", err)
		}
		if p := info["Memory"]["lazyfree_pending_objects"]; p == "" || p == "0" || time.Now().After(deadline) {
			break
		}
	}
	v, err := strconv.ParseInt(info["Memory"]["used_memory"], 10, 64)
	if err != nil {
		t.Fatalf("testenv: redis used_memory: %v", err)
	}
	return v
}

// MergeTrees lists the test database's MergeTree tables (appeals, the views' targets, the SLA tables).
func MergeTrees(t testing.TB, conn driver.Conn) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(),
		"SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
