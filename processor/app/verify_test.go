package app_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/testenv"
)

// A view that misses inserts while the processor runs (detached for a while, as a view failing mid-INSERT
// leaves it): `teplokarta verify` reports the minute rollup's partition and exits non-zero; `verify
// --repair`, run while the processor keeps inserting, rebuilds it through the rollup gate; at the end every
// rollup equals the simulator's truth window by window.
func TestVerifyRepairsWhileTheProcessorRuns(t *testing.T) {
	t.Parallel()
	broker := startBroker(t)
	conn, cfg := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	truth := simulate(t, broker, 21, 30000, time.Now().Add(-20*24*time.Hour).Truncate(time.Hour))
	began := time.Now()
	startChild(t, broker, cfg.Database, prefix)
	waitProgress(t, conn, truth.Appeals/5, 4*time.Minute)
	ctx := context.Background()
	if err := conn.Exec(ctx, "DETACH TABLE appeal_counts_1m_mv"); err != nil {
		t.Fatal(err)
	}
	detached := time.Now()
	waitProgress(t, conn, truth.Appeals*2/5, 4*time.Minute)
	// Progress alone does not prove the view missed anything: an INSERT already running at the DETACH
	// still feeds it, and one such round (up to the in-flight budget) can carry the count past 2/5.
	// Every INSERT stamps its rows with its start time as version, and the processor's INSERTs run one
	// after another, so the second one stamped after the DETACH began after it: wait for that one.
	waitInsertsSince(t, conn, detached, 2, 4*time.Minute)
	if err := conn.Exec(ctx, "ATTACH TABLE appeal_counts_1m_mv"); err != nil {
		t.Fatal(err)
	}
	verify := func(args ...string) (string, error) {
		cmd := exec.Command(buildProcessor(t), append([]string{"verify", "--since", "0",
			"--clickhouse-addr", os.Getenv(testenv.EnvClickHouse), "--clickhouse-database", cfg.Database,
			"--redis-addr", os.Getenv(testenv.EnvRedis), "--redis-prefix", prefix}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := verify()
	if err == nil || !strings.Contains(out, "appeal_counts_1m ") {
		t.Fatalf("verify after the minute view missed inserts: err %v, output:\n%s", err, out)
	}
	t.Logf("verify after %s:\n%s", time.Since(began).Round(time.Second), out)
	if rowCount(t, conn) >= truth.Appeals {
		t.Fatal("the processor finished before the repair: the test must repair while it inserts")
	}
	out, err = verify("--repair")
	if err != nil {
		t.Fatalf("verify --repair: %v\n%s", err, out)
	}
	t.Logf("verify --repair after %s (%d of %d rows stored):\n%s", time.Since(began).Round(time.Second), rowCount(t, conn), truth.Appeals, out)
	waitRows(t, conn, truth.Appeals, 4*time.Minute)
	t.Logf("all rows stored after %s", time.Since(began).Round(time.Second))
	compareWithTruth(t, conn, truth)
	if out, err := verify(); err != nil {
		t.Fatalf("verify at the end: %v\n%s", err, out)
	}
}

// waitInsertsSince waits until appeals holds rows of n INSERTs stamped (version) after since.
func waitInsertsSince(t *testing.T, conn driver.Conn, since time.Time, n uint64, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		var got uint64
		if err := conn.QueryRow(context.Background(), "SELECT uniqExact(version) FROM appeals WHERE version > ?",
			uint64(since.UnixNano())).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d INSERTs since %s after %s, want %d", got, since.Format(time.RFC3339Nano), timeout, n)
		}
	}
}
