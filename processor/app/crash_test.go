package app_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/app"
)

// The crash tests run the processor as a child process (this test binary re-executed) so that it can be
// killed with SIGKILL mid-stream, as an OOM killer or a power cut would.
const helperEnv = "TEPLOKARTA_TEST_PROCESSOR_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(runChildProcessor())
	}
	os.Exit(m.Run())
}

func runChildProcessor() int {
	ctx := context.Background()
	cfg := chstore.DefaultConfig()
	cfg.Addr, cfg.Database = os.Getenv(testenv.EnvClickHouse), os.Getenv("CHILD_DB")
	conn, err := chstore.Open(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv(testenv.EnvRedis)})
	o := app.DefaultOptions()
	o.Pipeline.Brokers, o.Pipeline.GroupID = []string{os.Getenv("CHILD_BROKER")}, "crash"
	o.Pipeline.BatchSize, o.Pipeline.SessionTimeout = 2000, 6*time.Second
	o.Dedup.KeyPrefix = os.Getenv("CHILD_PREFIX")
	eng, err := app.Build(o, app.Clients{ClickHouse: conn, Redis: rdb})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := eng.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startChild(t *testing.T, broker, db, prefix string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "CHILD_BROKER="+broker, "CHILD_DB="+db, "CHILD_PREFIX="+prefix)
	var out strings.Builder
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.done) }() // reap it: a killed child must not linger as a zombie
	t.Cleanup(func() {
		c.kill()
		if t.Failed() && out.Len() > 0 {
			t.Logf("processor output (tail): %s", tail(out.String(), 2000))
		}
	})
	return c
}

func (c *child) kill() {
	_ = c.cmd.Process.Kill() // SIGKILL
	<-c.done
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func rowCount(t *testing.T, conn driver.Conn) int {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM appeals").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// waitProgress waits until ClickHouse holds at least n rows.
func waitProgress(t *testing.T, conn driver.Conn, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for rowCount(t, conn) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d rows after %s, waiting for %d", rowCount(t, conn), timeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSIGKILLThreeTimesLosesAndDoublesNothing(t *testing.T) {
	b := testenv.Broker(t)
	conn, cfg := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	truth := simulate(t, b.Addr(), 7, 100000, time.Now().Add(-40*24*time.Hour).Truncate(time.Hour))
	if d := float64(truth.Retries+truth.Voices) / float64(truth.Messages); d < 0.10 {
		t.Fatalf("only %.1f%% exact and cross-source duplicates; the test needs ≥ 10%%", 100*d)
	}
	for i, frac := range []float64{0.2, 0.45, 0.7} {
		c := startChild(t, b.Addr(), cfg.Database, prefix)
		waitProgress(t, conn, int(frac*float64(truth.Appeals)), 4*time.Minute)
		c.kill()
		t.Logf("kill %d at %d stored rows", i+1, rowCount(t, conn))
	}
	startChild(t, b.Addr(), cfg.Database, prefix)
	waitRows(t, conn, truth.Appeals, 4*time.Minute)
	compareWithTruth(t, conn, truth)
}

func TestTwoInstancesWithRebalance(t *testing.T) {
	b := testenv.Broker(t)
	conn, cfg := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	truth := simulate(t, b.Addr(), 11, 60000, time.Now().Add(-40*24*time.Hour).Truncate(time.Hour))
	first := startChild(t, b.Addr(), cfg.Database, prefix)
	waitProgress(t, conn, truth.Appeals/4, 4*time.Minute)
	startChild(t, b.Addr(), cfg.Database, prefix) // joins: the partitions are split between the two
	waitProgress(t, conn, truth.Appeals/2, 4*time.Minute)
	first.kill() // the survivor takes its partitions after the session times out
	t.Logf("first instance killed at %d stored rows", rowCount(t, conn))
	waitRows(t, conn, truth.Appeals, 4*time.Minute)
	compareWithTruth(t, conn, truth)
}
