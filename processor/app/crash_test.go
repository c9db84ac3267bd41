package app_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// The crash tests run the real processor binary (`teplokarta process`, built once per test run without
// the race detector) as a child process, so that it can be killed with SIGKILL mid-stream as an OOM killer
// or a power cut would.
// processorBin is built once for the package's tests, which run in parallel.
var (
	buildOnce    sync.Mutex
	processorBin string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if processorBin != "" {
		os.RemoveAll(filepath.Dir(processorBin))
	}
	os.Exit(code)
}

func buildProcessor(t testing.TB) string {
	t.Helper()
	buildOnce.Lock()
	defer buildOnce.Unlock()
	if processorBin != "" {
		return processorBin
	}
	dir, err := os.MkdirTemp("", "teplokarta-bin")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "teplokarta")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/teplokarta/teplokarta/cmd/teplokarta")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the processor: %v\n%s", err, out)
	}
	processorBin = bin
	return bin
}

// startBroker runs the embedded broker as its own process (not inside the race-instrumented test binary,
// which slows kfake down by an order of magnitude) on a free loopback port.
func startBroker(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(buildProcessor(t), "broker", "--port", strconv.Itoa(port), "--data-dir", t.TempDir(), "--metrics-addr", "")
	var out strings.Builder
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.done) }()
	t.Cleanup(c.kill)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kafkax.WaitReady(ctx, []string{addr}, kafkax.Security{}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return addr
}

type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startChild(t *testing.T, broker, db, prefix string) *child {
	t.Helper()
	return startChildEnv(t, broker, db, prefix)
}

// startChildEnv starts a processor child with extra environment variables (test hooks).
func startChildEnv(t *testing.T, broker, db, prefix string, extra ...string) *child {
	t.Helper()
	c, _ := startChildWith(t, broker, db, prefix, nil, extra...)
	return c
}

// startChildWith starts a processor child with extra flags and environment variables; the returned buffer
// collects what it logs.
func startChildWith(t *testing.T, broker, db, prefix string, flags []string, env ...string) (*child, *syncBuffer) {
	t.Helper()
	args := append([]string{"process", "--brokers", broker, "--group", "crash",
		"--clickhouse-addr", os.Getenv(testenv.EnvClickHouse), "--clickhouse-database", db,
		"--redis-addr", os.Getenv(testenv.EnvRedis), "--redis-prefix", prefix,
		"--batch-size", "2000", "--session-timeout", "6s", "--metrics-addr", "", "--local"}, flags...)
	cmd := exec.Command(buildProcessor(t), args...)
	cmd.Env = append(os.Environ(), env...)
	out := &syncBuffer{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.done) }() // reap it: a killed child must not linger as a zombie
	t.Cleanup(func() {
		c.kill()
		if t.Failed() && out.String() != "" {
			t.Logf("processor output (tail): %s", tail(out.String(), 2000))
		}
	})
	return c, out
}

// syncBuffer is a child's stderr, read while the child writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
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

func rowCount(t testing.TB, conn driver.Conn) int {
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
	t.Parallel()
	sigkillThreeTimes(t, 7, 40000, nil)
}

// sigkillThreeTimes streams a simulated backlog into processor children started with flags, SIGKILLs
// them at a fifth, nearly half and 70 % of the appeals stored, and requires the truth once a last one
// has finished.
func sigkillThreeTimes(t *testing.T, seed uint64, messages int, flags []string) {
	broker := startBroker(t)
	conn, cfg := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	truth := simulate(t, broker, seed, messages, time.Now().Add(-40*24*time.Hour).Truncate(time.Hour))
	if d := float64(truth.Retries+truth.Voices) / float64(truth.Messages); d < 0.10 {
		t.Fatalf("only %.1f%% exact and cross-source duplicates; the test needs ≥ 10%%", 100*d)
	}
	for i, frac := range []float64{0.2, 0.45, 0.7} {
		c, _ := startChildWith(t, broker, cfg.Database, prefix, flags)
		waitProgress(t, conn, int(frac*float64(truth.Appeals)), 4*time.Minute)
		c.kill()
		t.Logf("kill %d at %d stored rows", i+1, rowCount(t, conn))
	}
	startChildWith(t, broker, cfg.Database, prefix, flags)
	waitRows(t, conn, truth.Appeals, 4*time.Minute)
	compareWithTruth(t, conn, truth)
}

func TestTwoInstancesWithRebalance(t *testing.T) {
	t.Parallel()
	broker := startBroker(t)
	conn, cfg := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	truth := simulate(t, broker, 11, 30000, time.Now().Add(-40*24*time.Hour).Truncate(time.Hour))
	first := startChild(t, broker, cfg.Database, prefix)
	waitProgress(t, conn, truth.Appeals/4, 4*time.Minute)
	startChild(t, broker, cfg.Database, prefix) // joins: the partitions are split between the two
	waitProgress(t, conn, truth.Appeals/2, 4*time.Minute)
	first.kill() // the survivor takes its partitions after the session times out
	t.Logf("first instance killed at %d stored rows", rowCount(t, conn))
	waitRows(t, conn, truth.Appeals, 4*time.Minute)
	compareWithTruth(t, conn, truth)
}
