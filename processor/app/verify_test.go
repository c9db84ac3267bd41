package app_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

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
	waitProgress(t, conn, truth.Appeals*2/5, 4*time.Minute)
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
