package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// TestRunAgainStoresNewAppeals runs `run`'s assembly twice on one stack (ClickHouse database, Redis
// prefix, broker data), as a newcomer does who stops `make run` and starts it again. The second run's
// traffic must be stored as it comes. Before its simulator's ids started per run, both runs sent ids 1, 2,
// 3… of each source: the processor, which remembers ids for 30 days, took every appeal of the second run
// for a retry of the first run's appeal with that id and stored nothing new until the second run's ids
// passed the first's (a minute of silence after a minute's run, hours after a day's).
func TestRunAgainStoresNewAppeals(t *testing.T) {
	_, chCfg := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	dataDir := t.TempDir()
	stored := func(ctx context.Context, s *runStack) uint64 {
		var n uint64
		_ = s.conn.QueryRow(ctx, "SELECT count() FROM appeals").Scan(&n)
		return n
	}
	var total uint64
	for round := 1; round <= 2; round++ {
		env := &cli.Env{Stdin: bytes.NewReader(nil), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" },
			Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
		fs, f := runFlagSet(env)
		if err := parse(fs, []string{"--clickhouse-addr", chCfg.Addr, "--clickhouse-database", chCfg.Database,
			"--redis-addr", testenv.RedisAddr(t), "--redis-prefix", prefix, "--broker-port", "0", "--data-dir", dataDir,
			"--ingest-listen", "127.0.0.1:0", "--sla-listen", "127.0.0.1:0", "--metrics-addr", "", "--no-executors",
			"--sla-time-scale", "1800", "--sim-duration", "1h", "--rate", "12", "--rhythm=false", "--seed", "5",
			"--table-every", "0"}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		s, err := startRun(ctx, env, f)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		<-s.simDone
		want := total + uint64(s.simTruth.Appeals)
		waitFor(t, ctx, fmt.Sprintf("run %d's appeals stored", round), func() (bool, string) {
			n := stored(ctx, s)
			return n == want, fmt.Sprintf("%d stored, want %d (run %d sent %d unique appeals)", n, want, round, s.simTruth.Appeals)
		})
		total = want
		cancel()
		_ = s.wait()
		s.close()
	}
}
