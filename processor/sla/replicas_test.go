package sla

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/sla/clock"
	"github.com/teplokarta/teplokarta/processor/sla/policy"
	"github.com/teplokarta/teplokarta/processor/sla/timers"
)

// TestClusterStateReadsEveryReplica makes replica 2 of a replicated cluster (deploy/local/cluster.sh, the
// 1×2 layout) lag for real — its fetches stopped while replica 1 takes the engine's INSERTs — and reads the
// engine's state back through replica 2, as an engine connected there does after a Redis loss: the states,
// the applied event ids, the timers rebuilt at start and the API's list of open appeals must be the
// latest ones, which only replica 1 holds. A read through the Distributed table there (the code before)
// sees none of them, which the test checks first. It needs TEPLOKARTA_TEST_CH_CLUSTER (the replicas'
// addresses, as `cluster.sh env` prints them) and skips without it; it starts a Redis of its own.
func TestClusterStateReadsEveryReplica(t *testing.T) {
	env := os.Getenv("TEPLOKARTA_TEST_CH_CLUSTER")
	if env == "" {
		t.Skip("TEPLOKARTA_TEST_CH_CLUSTER is not set (make test-cluster)")
	}
	replicas := strings.Split(env, ",")
	if len(replicas) != 2 {
		t.Fatalf("TEPLOKARTA_TEST_CH_CLUSTER=%s: want the two replicas of one shard", env)
	}
	rdb, prefix := privateRedis(t), "tk:"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	const cluster = "teplokarta"
	db := fmt.Sprintf("sla_replicas_%d", time.Now().UnixNano()%1_000_000_000)
	cfg := chstore.DefaultConfig()
	cfg.Addr, cfg.Database, cfg.Cluster = env, db, cluster
	auth := testenv.ClusterAuth() // cluster.sh's user; default is locked there, as in production
	cfg.User, cfg.Password = auth.User, auth.Password
	mig, err := chstore.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = mig.Exec(context.Background(), fmt.Sprintf("DROP DATABASE IF EXISTS %s ON CLUSTER %s", db, cluster))
		mig.Close()
	})
	if _, err := chstore.MigrateCluster(ctx, mig, chstore.ProjectMigrations(), cluster, db, auth); err != nil {
		t.Fatal(err)
	}
	open := func(addr string) driver.Conn {
		c := cfg
		c.Addr = addr
		conn, err := chstore.Open(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	c1, c2 := open(replicas[0]), open(replicas[1])

	pol, err := policy.New(policy.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC)
	writer := &store{rdb: rdb, ch: c1, prefix: prefix + "w:", resolvedTTL: time.Hour, topo: chstore.TopologyOnce{Auth: auth}}
	states := map[string]*State{}
	apply := func(id, typ, role, comment string, minute int) {
		t.Helper()
		ev := model.StatusEvent{EventID: fmt.Sprintf("%s:%s", typ, id), AppealID: id, Type: typ, ActorRole: role,
			Actor: "test", Agency: "ЖКХ-Рязань", Comment: comment, EventTime: at.Add(time.Duration(minute) * time.Minute)}
		if typ == model.EventCreated {
			ev.Region, ev.OKTMO, ev.Source, ev.Category, ev.ReceivedTime = model.DefaultRegion, "61701000", "vk", "ЖКХ", ev.EventTime
		}
		next, err := Apply(states[id], ev, pol)
		if err != nil {
			t.Fatalf("%s %s: %v", typ, id, err)
		}
		if err := writer.record(ctx, []applied{{ev: ev, state: next}}, []State{next}); err != nil {
			t.Fatal(err)
		}
		states[id] = &next
	}
	const a, b = "vk:replica-a", "vk:replica-b"
	tables := []string{"appeal_sla", "appeal_sla_extra", "appeal_events"}

	// b is created while both replicas fetch, then replica 2 stops: it keeps b's first version only and
	// never sees a.
	apply(b, model.EventCreated, model.RoleSystem, "", 0)
	for _, tb := range tables {
		if err := c2.Exec(ctx, "SYSTEM SYNC REPLICA "+tb+chstore.LocalSuffix); err != nil {
			t.Fatal(err)
		}
		if err := c2.Exec(ctx, "SYSTEM STOP FETCHES "+tb+chstore.LocalSuffix); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c2.Exec(context.Background(), "SYSTEM START FETCHES "+tb+chstore.LocalSuffix) })
	}
	apply(a, model.EventCreated, model.RoleSystem, "", 1)
	apply(a, model.EventTake, model.RoleAgency, "", 2)
	apply(b, model.EventTake, model.RoleAgency, "", 3)
	apply(b, model.EventResolve, model.RoleAgency, "Течь устранена", 4)

	// The lag is real: the read the engine made before sees a nowhere and b open at its first version.
	var n, bVersion uint64
	if err := c2.QueryRow(ctx, "SELECT count() FROM appeal_sla FINAL WHERE appeal_id = ?", a).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := c2.QueryRow(ctx, "SELECT max(version) FROM appeal_sla FINAL WHERE appeal_id = ?", b).Scan(&bVersion); err != nil {
		t.Fatal(err)
	}
	if n != 0 || bVersion != 1 {
		t.Fatalf("replica 2 does not lag (a: %d rows, b at version %d): the test would show nothing", n, bVersion)
	}

	check := func(name string, s *store) {
		t.Helper()
		got, err := s.load(ctx, []string{a, b})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, id := range []string{a, b} {
			want := *states[id]
			g := got[id]
			if g == nil {
				t.Fatalf("%s: no state of %s", name, id)
			}
			if fmt.Sprintf("%+v", *g) != fmt.Sprintf("%+v", want) {
				t.Errorf("%s: state of %s\n got %+v\nwant %+v", name, id, *g, want)
			}
		}
	}
	// A store with nothing in Redis, connected to the lagging replica only.
	reader := &store{rdb: rdb, ch: c2, prefix: prefix + "r:", resolvedTTL: time.Hour, topo: chstore.TopologyOnce{Auth: auth}}
	check("through the lagging replica", reader)

	// A replica that does not answer is skipped, not waited for: an address nothing listens on joins the
	// topology.
	topo, err := reader.topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !topo.Clustered() || len(topo.Replicas) != 2 {
		t.Fatalf("topology %+v: want the cluster schema on two replicas", topo)
	}
	topo.Replicas = append(slices.Clone(topo.Replicas), "127.0.0.1:1")
	down := &store{rdb: rdb, ch: c2, prefix: prefix + "r:", resolvedTTL: time.Hour}
	down.topo.Set(topo)
	check("with a replica down", down)

	// The engine on the lagging replica: timers for a (open) and not for b (resolved), and a in the list.
	ecfg := DefaultConfig()
	ecfg.Brokers, ecfg.KeyPrefix, ecfg.ClickHouseAuth = []string{"127.0.0.1:1"}, prefix+"e:", auth
	eng, err := New(ecfg, rdb, c2, pol, clock.NewFake(at), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if n, err := eng.Rebuild(ctx); err != nil || n != 1 {
		t.Fatalf("rebuild: %d timers, %v; want 1", n, err)
	}
	for _, k := range []timers.Kind{timers.Breach, timers.AtRisk} {
		due, err := rdb.ZRange(ctx, eng.timers.Key(k), 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(due, []string{a}) {
			t.Errorf("%s timers %v, want [%s]", k, due, a)
		}
	}
	list, err := eng.OpenAppeals(ctx, "", true, at.Add(-time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].AppealID != a || list[0].Version != states[a].Version || list[0].Status != StatusInWork {
		t.Errorf("open appeals %+v, want %s at version %d, in work", list, a, states[a].Version)
	}
}

// privateRedis starts a redis-server of the test's own on a free loopback port (make test-cluster runs
// no other Redis).
func privateRedis(t *testing.T) *redis.Client {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server (deploy/local/stack.sh installs it): %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))})
	t.Cleanup(func() { rdb.Close() })
	for i := 0; ; i++ {
		if err := rdb.Ping(context.Background()).Err(); err == nil {
			return rdb
		} else if i == 100 {
			t.Fatalf("redis-server on port %d: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
