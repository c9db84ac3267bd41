package benchpeer_test

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/benchpeer"
	"github.com/teplokarta/teplokarta/internal/chaos"
)

// TestBenchPeerTiny is `make bench-peer` at 2,000 messages and one round, on its own ClickHouse and
// Redis (ports beside bench-peer's own) and broker: both systems must drain the whole backlog — the peer
// one row per message, teplokarta one per unique appeal, every rollup agreeing — and the printed table's
// ratio row must be the quotient of the two printed rates.
func TestBenchPeerTiny(t *testing.T) {
	// Not in `make test`: once in about a dozen runs on a loaded machine the peer's Kafka engine (ClickHouse 18.16)
	// stalled before draining, a fault of the peer, not of teplokarta, that CI must not inherit. `make
	// bench-peer` runs this test before the measured rounds.
	if os.Getenv("TEPLOKARTA_TEST_BENCH_PEER") == "" {
		t.Skip("set TEPLOKARTA_TEST_BENCH_PEER=1 (make bench-peer does): starts its own ClickHouse, Redis and the peer")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "teplokarta")
	build := exec.Command("go", "build", "-o", bin, "./cmd/teplokarta")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	const messages, fresh = 2000, 2
	var log strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	rep, err := benchpeer.Run(ctx, benchpeer.Config{Bin: bin, BrokerPort: 19893, Messages: messages, Rounds: 1, Freshness: fresh,
		Log: &log, Stack: chaos.Stack{Script: filepath.Join(root, "deploy/local/stack.sh"), StateDir: t.TempDir(),
			CHPort: 19810, CHHTTP: 18833, RedisPort: 16889}})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	var table strings.Builder
	benchpeer.PrintTable(&table, rep)
	benchpeer.PrintTargets(&table, rep)
	t.Logf("\n%s\n%s", log.String(), table.String())

	if rep.Messages != messages || rep.Unique >= rep.Messages || rep.Unique == 0 {
		t.Fatalf("backlog: %d messages, %d unique: want %d messages with some retries among them", rep.Messages, rep.Unique, messages)
	}
	if len(rep.Results) != 2 || rep.Results[0].System != benchpeer.SystemPeer || rep.Results[1].System != benchpeer.SystemTeplokarta {
		t.Fatalf("round 1 must drain with the peer first, then teplokarta: %+v", rep.Results)
	}
	peer, tk := rep.Results[0], rep.Results[1]
	// The peer drained the backlog; its freshness probes, new appeals each, joined it before teplokarta's turn.
	// The Kafka engine is at least once: a rebalance may store a record twice (rows > messages).
	if peer.Messages != rep.Messages || peer.Rows < rep.Messages {
		t.Errorf("peer: %d messages drained, %d rows: want %d and at least as many rows", peer.Messages, peer.Rows, rep.Messages)
	}
	if tk.Messages != rep.Messages+fresh || tk.Unique != rep.Unique+fresh || tk.Rows != tk.Unique {
		t.Errorf("teplokarta: %d messages, %d unique, %d rows: want %d, %d, %d", tk.Messages, tk.Unique, tk.Rows,
			rep.Messages+fresh, rep.Unique+fresh, rep.Unique+fresh)
	}
	for _, r := range rep.Results {
		if r.Took <= 0 || len(r.Fresh) != fresh || r.CPU["clickhouse"] <= 0 || r.PeakKiB["clickhouse"] <= 0 || r.PeakKiB["broker"] <= 0 {
			t.Errorf("%s: took %s, %d freshness samples, CPU %v, peaks %v", r.System, r.Took, len(r.Fresh), r.CPU, r.PeakKiB)
		}
		for _, d := range r.Fresh {
			if d <= 0 {
				t.Errorf("%s: freshness sample %s", r.System, d)
			}
		}
	}
	if tk.CPU["processor"] <= 0 || tk.PeakKiB["processor"] <= 0 || peer.CPU["processor"] != 0 {
		t.Errorf("processor CPU: teplokarta %s (peak %d KiB), peer %s (has none)", tk.CPU["processor"], tk.PeakKiB["processor"], peer.CPU["processor"])
	}

	// The printed table: the ratio row is the quotient of the printed rates (to their rounding).
	rows := map[string][]string{}
	for _, line := range strings.Split(table.String(), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 8 && f[0] == "1":
			rows[f[2]] = f[7:9] // messages/s, unique/s
		case len(f) > 3 && f[0] == "ratio":
			rows["ratio"] = f[2:4]
		}
	}
	for col := range 2 {
		p, errP := strconv.ParseFloat(rows[benchpeer.SystemPeer][col], 64)
		k, errK := strconv.ParseFloat(rows[benchpeer.SystemTeplokarta][col], 64)
		r, errR := strconv.ParseFloat(rows["ratio"][col], 64)
		if errP != nil || errK != nil || errR != nil {
			t.Fatalf("table rows %v: %v %v %v", rows, errP, errK, errR)
		}
		if math.Abs(r-k/p) > 0.005+k/p*1/p { // the printed rates are rounded to 1 message/s
			t.Errorf("column %d: ratio %.2f, printed rates give %.4f", col, r, k/p)
		}
	}
	if want := tk.MessagesPerSec() / peer.MessagesPerSec(); math.Abs(rep.Ratio("messages/s")-want) > 1e-9 {
		t.Errorf("Ratio(messages/s) = %v, want %v", rep.Ratio("messages/s"), want)
	}
}
