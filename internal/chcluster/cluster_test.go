// Package chcluster_test runs the pipeline on a replicated ClickHouse cluster (deploy/local/cluster.sh):
// `teplokarta migrate --cluster`, then the real processor binary draining a deterministic simulated stream
// while one replica is SIGKILLed and restarted. It needs TEPLOKARTA_TEST_CH_CLUSTER (the replicas'
// native addresses, comma-separated, as `cluster.sh env` prints) and skips without it.
package chcluster_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/rollup"
)

const (
	envCluster = "TEPLOKARTA_TEST_CH_CLUSTER"
	cluster    = "teplokarta"
	script     = "../../deploy/local/cluster.sh"
	messages   = 20000
)

type child struct {
	cmd  *exec.Cmd
	done chan struct{}
	out  *strings.Builder
}

func start(t *testing.T, bin string, args ...string) *child {
	t.Helper()
	cmd := command(bin, args...)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{}), out: out}
	go func() { _ = cmd.Wait(); close(c.done) }() // reap: a killed child must not linger as a zombie
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-c.done })
	return c
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// command runs name (a teplokarta binary, Redis, go) as the cluster's user: the variables a teplokarta
// command reads its ClickHouse credentials from are set (testenv.ClusterEnv).
func command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = testenv.ClusterEnv()
	return cmd
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// chstoreConfig is how the tests reach the cluster's database (Addr still to set), as cluster.sh's user.
func chstoreConfig(db string) chstore.Config {
	cfg := chstore.DefaultConfig()
	cfg.Database, cfg.Cluster = db, cluster
	a := testenv.ClusterAuth()
	cfg.User, cfg.Password = a.User, a.Password
	return cfg
}

func open(t *testing.T, addr, db string) driver.Conn {
	t.Helper()
	cfg := chstoreConfig(db)
	cfg.Addr = addr
	conn, err := chstore.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func count(ctx context.Context, conn driver.Conn, q string) (uint64, error) {
	var n uint64
	err := conn.QueryRow(ctx, q).Scan(&n)
	return n, err
}

func until(t *testing.T, ctx context.Context, what string, cond func() (bool, string)) {
	t.Helper()
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last: %s)", what, ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stream starts a private broker holding a deterministic simulated stream of messages, and a private
// Redis for the processor's dedup state; it returns their addresses and the stream's truth.
func stream(t *testing.T, ctx context.Context, bin, tmp string) (broker, redisAddr string, truth *simulator.Truth) {
	t.Helper()
	redisPort := freePort(t)
	start(t, "redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(redisPort), "--save", "", "--appendonly", "no")
	brokerPort := freePort(t)
	broker = net.JoinHostPort("127.0.0.1", strconv.Itoa(brokerPort))
	start(t, bin, "broker", "--port", strconv.Itoa(brokerPort), "--data-dir", filepath.Join(tmp, "broker"), "--metrics-addr", "")
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := kafkax.WaitReady(wctx, []string{broker}, kafkax.Security{}); err != nil {
		t.Fatal(err)
	}
	sc := simulator.DefaultConfig()
	sc.Seed, sc.Start, sc.Rate, sc.VKGeoShare = 7, time.Now().Add(-10*24*time.Hour).Truncate(time.Hour), 0.05, 1
	g, err := simulator.New(sc)
	if err != nil {
		t.Fatal(err)
	}
	pc := kafkax.DefaultProducerConfig()
	pc.Brokers = []string{broker}
	w, err := kafkax.NewWriter(pc)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	truth = simulator.NewTruth()
	if err := simulator.Run(ctx, g, simulator.KafkaSink{W: w}, simulator.RunConfig{Count: messages, BatchSize: 1000}, truth); err != nil {
		t.Fatal(err)
	}
	return broker, net.JoinHostPort("127.0.0.1", strconv.Itoa(redisPort)), truth
}

// clusterRun is one test's cluster: the servers cluster.sh started (from env), a binary built from
// this checkout, and a database of its own that is dropped on every server afterwards.
type clusterRun struct {
	addrs        string   // comma-separated, as --clickhouse-addr takes them
	servers      []string // host:port
	bin, tmp, db string
}

// newClusterRun skips without env (servers' addresses; want of them), builds the binary and runs
// `migrate --cluster` into a new database.
func newClusterRun(t *testing.T, env string, want int, start, prefix string) clusterRun {
	t.Helper()
	r := clusterRun{addrs: os.Getenv(env)}
	if r.addrs == "" {
		t.Skipf("%s is not set (%s; eval its env)", env, start)
	}
	if r.servers = strings.Split(r.addrs, ","); len(r.servers) != want {
		t.Fatalf("%s: want the %d servers of cluster.sh, got %q", env, want, r.addrs)
	}
	r.tmp = t.TempDir()
	r.bin = filepath.Join(r.tmp, "teplokarta")
	run(t, "go", "build", "-o", r.bin, "../../cmd/teplokarta")
	r.db = fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	began := time.Now()
	out := run(t, r.bin, "migrate", "--clickhouse-addr", r.addrs, "--cluster", cluster, "--clickhouse-database", r.db)
	t.Logf("migrate --cluster: %.1fs\n%s", time.Since(began).Seconds(), out)
	t.Cleanup(func() {
		a := testenv.ClusterAuth()
		_ = exec.Command("clickhouse-client", "--host", "127.0.0.1", "--port", strings.Split(r.servers[0], ":")[1],
			"--user", a.User, "--password", a.Password, "-q", "DROP DATABASE IF EXISTS "+r.db+" ON CLUSTER "+cluster).Run()
	})
	return r
}

// process starts the real processor on the cluster, draining broker with redisAddr for its dedup state;
// its log's tail is printed if the test fails.
func (r clusterRun) process(t *testing.T, broker, redisAddr string) *child {
	t.Helper()
	proc := start(t, r.bin, "process", "--local", "--brokers", broker, "--group", r.db,
		"--clickhouse-addr", r.addrs, "--clickhouse-database", r.db, "--redis-addr", redisAddr,
		"--redis-prefix", r.db+":", "--batch-size", "500", "--session-timeout", "6s", "--metrics-addr", net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))))
	t.Cleanup(func() {
		if t.Failed() {
			out := proc.out.String()
			t.Logf("processor log (tail):\n%s", out[max(0, len(out)-3000):])
		}
	})
	return proc
}

// sla starts the real SLA engine on the cluster beside the processor. At the end its log must show no
// query ClickHouse refuses on a cluster and no incident its reconcile had to give a deadline to although
// its events were applied (an appeal_sla row not yet visible after a confirmed INSERT). While a server is
// down its batches fail and are retried; that is logged as errors and is fine.
func (r clusterRun) sla(t *testing.T, broker, redisAddr string) {
	t.Helper()
	sla := start(t, r.bin, "sla", "serve", "--brokers", broker, "--clickhouse-addr", r.addrs, "--clickhouse-database", r.db,
		"--redis-addr", redisAddr, "--redis-prefix", r.db+":", "--tokens", "../../deploy/sla-tokens.example.yaml",
		"--listen", "127.0.0.1:"+strconv.Itoa(freePort(t)), "--metrics-addr", "")
	t.Cleanup(func() {
		out := sla.out.String()
		for _, bad := range []string{"code: 288", "reconcile failed", "got their created events"} {
			if strings.Contains(out, bad) {
				t.Errorf("SLA engine log has %q", bad)
			}
		}
		if t.Failed() {
			t.Logf("SLA engine log (tail):\n%s", out[max(0, len(out)-3000):])
		}
	})
}

// slaComplete waits until every stored incident has exactly one appeal_sla row.
func (r clusterRun) slaComplete(t *testing.T, ctx context.Context, c driver.Conn) {
	t.Helper()
	began := time.Now()
	until(t, ctx, "an SLA record for every incident", func() (bool, string) {
		var incidents, records, missing uint64
		err := c.QueryRow(ctx, `SELECT (SELECT count() FROM appeals WHERE is_incident = 1),
			(SELECT count() FROM appeal_sla FINAL),
			(SELECT count() FROM appeals WHERE is_incident = 1 AND appeal_id GLOBAL NOT IN (SELECT appeal_id FROM appeal_sla))`).
			Scan(&incidents, &records, &missing)
		return err == nil && missing == 0 && records == incidents, fmt.Sprintf("incidents %d, records %d, missing %d, %v", incidents, records, missing, err)
	})
	t.Logf("every incident had its SLA record %.1fs after the stream was stored", time.Since(began).Seconds())
}

func TestClusterReplicaKill(t *testing.T) {
	// 1. The cluster schema on both replicas: Replicated local tables, Distributed tables under the old names.
	cr := newClusterRun(t, envCluster, 2, "deploy/local/cluster.sh start", "tc")
	addrs, replicas, bin, tmp, db := cr.addrs, cr.servers, cr.bin, cr.tmp, cr.db
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	conns := []driver.Conn{open(t, replicas[0], db), open(t, replicas[1], db)}
	for i, c := range conns {
		for _, tc := range []struct{ table, engine string }{
			{"appeals", "Distributed"}, {"appeals_local", "ReplicatedReplacingMergeTree"},
			{"appeal_counts_1m", "Distributed"}, {"appeal_counts_1m_local", "ReplicatedSummingMergeTree"},
			{"appeal_progress_local", "ReplicatedReplacingMergeTree"}, {"appeal_sla_local", "ReplicatedReplacingMergeTree"},
			{"schema_migrations_local", "ReplicatedReplacingMergeTree"},
		} {
			var engine string
			if err := c.QueryRow(ctx, "SELECT any(engine) FROM system.tables WHERE database = currentDatabase() AND name = ?", tc.table).Scan(&engine); err != nil {
				t.Fatal(err)
			}
			if engine != tc.engine {
				t.Errorf("replica %d: %s is %q, want %s", i+1, tc.table, engine, tc.engine)
			}
		}
	}
	if again := run(t, bin, "migrate", "--clickhouse-addr", addrs, "--cluster", cluster, "--clickhouse-database", db); !strings.Contains(again, "up to date") {
		t.Fatalf("second migrate --cluster: %s", again)
	}

	// 2. A deterministic stream in a private broker; a private Redis for the processor's dedup state.
	broker, redisAddr, truth := stream(t, ctx, bin, tmp)

	// 3. The processor writes through the replicas' address list (replica 1 first) ...
	cr.sla(t, broker, redisAddr)
	cr.process(t, broker, redisAddr)
	began := time.Now()
	until(t, ctx, "a quarter of the stream stored", func() (bool, string) {
		n, err := count(ctx, conns[1], "SELECT count() FROM appeals")
		return err == nil && n >= uint64(truth.Appeals/4), fmt.Sprint(n, err)
	})
	// ... and replica 1 dies mid-stream; replica 2 keeps answering queries while it is down.
	run(t, script, "kill", "1")
	killed := time.Now()
	answered := 0
	for time.Since(killed) < 3*time.Second {
		if _, err := count(ctx, conns[1], "SELECT sum(voices) FROM appeal_counts_1m"); err != nil {
			t.Errorf("replica 2 did not answer while replica 1 was down: %v", err)
		} else {
			answered++
		}
		time.Sleep(200 * time.Millisecond)
	}
	run(t, script, "start")
	t.Logf("replica 1 down %.1fs; replica 2 answered %d queries meanwhile", time.Since(killed).Seconds(), answered)

	// 4. Everything equals the truth: through the Distributed tables and on each replica alone.
	until(t, ctx, "appeals to hold the truth on both replicas", func() (bool, string) {
		state := ""
		ok := true
		for i, c := range conns {
			for _, q := range []string{"SELECT count() FROM appeals", "SELECT count() FROM appeals_local"} {
				n, err := count(ctx, c, q)
				if err == nil && n > uint64(truth.Appeals) {
					t.Fatalf("replica %d: %s = %d, more than the %d appeals sent", i+1, q, n, truth.Appeals)
				}
				ok = ok && err == nil && n == uint64(truth.Appeals)
				state += fmt.Sprintf("r%d %q=%d %v; ", i+1, q, n, err)
			}
		}
		return ok, state
	})
	t.Logf("stream of %d appeals stored in %.1fs", truth.Appeals, time.Since(began).Seconds())
	for _, c := range conns {
		cr.slaComplete(t, ctx, c)
	}
	for i, c := range conns {
		if dup, err := count(ctx, c, "SELECT toUInt64(count() - uniqExact(appeal_id)) FROM appeals_local"); err != nil || dup != 0 {
			t.Errorf("replica %d: %d appeals stored twice (%v)", i+1, dup, err)
		}
		until(t, ctx, "the rollups to agree with appeals", func() (bool, string) {
			rep, err := rollup.Verify(ctx, c, rollup.Scope{})
			return err == nil && rep.Clean(), fmt.Sprint(rep.Diffs, rep.Progress, err)
		})
		for _, table := range []string{"appeal_counts_1m", "appeal_counts_1h", "appeal_counts_1d", "appeal_counts_1mo", "appeal_counts_oktmo_1d"} {
			for _, name := range []string{table, table + "_local"} {
				n, err := count(ctx, c, "SELECT sum(voices) FROM "+name)
				if err != nil || n != uint64(truth.Appeals) {
					t.Errorf("replica %d: %s counts %d appeals (%v), truth %d", i+1, name, n, err, truth.Appeals)
				}
			}
		}
		for _, cell := range truth.Cells()[:min(50, len(truth.Cells()))] {
			var n uint64
			if err := c.QueryRow(ctx, "SELECT sum(voices) FROM appeal_counts_1m_local WHERE window_start = ? AND oktmo = ? AND source = ?",
				cell.Start.UTC(), cell.OKTMO, cell.Source).Scan(&n); err != nil || n != uint64(cell.Appeals) {
				t.Errorf("replica %d: minute %s %s %s: %d (%v), truth %d", i+1, cell.Start.UTC(), cell.OKTMO, cell.Source, n, err, cell.Appeals)
			}
		}
	}
}
