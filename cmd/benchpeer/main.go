// Command benchpeer is `make bench-peer`: the same simulated backlog drained on this machine by
// ClickHouse's own Kafka engine (the peer) and by `teplokarta process`, in alternating order, on a private
// ClickHouse, Redis (deploy/local/stack.sh in its own state dir and ports) and embedded broker. It prints
// a table of rates, CPU per message of each process, peak memory, freshness and the ratio
// teplokarta / peer (internal/benchpeer).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/teplokarta/teplokarta/internal/benchpeer"
	"github.com/teplokarta/teplokarta/internal/chaos"
)

func main() {
	os.Exit(realMain())
}

func realMain() int {
	messages := flag.Int("messages", envInt("BENCH_MESSAGES", 1000000), "simulated backlog, retries included [$BENCH_MESSAGES]")
	rounds := flag.Int("rounds", envInt("BENCH_ROUNDS", 2), "rounds; the order of the two alternates [$BENCH_ROUNDS]")
	fresh := flag.Int("freshness", envInt("BENCH_FRESHNESS", 50), "single messages timed per system and round [$BENCH_FRESHNESS]")
	seed := flag.Uint64("seed", 1, "simulator seed")
	bin := flag.String("bin", "bin/teplokarta", "the teplokarta binary (broker, process)")
	state := flag.String("state-dir", ".state/bench-peer", "state directory of the private ClickHouse, Redis and broker")
	chPort := flag.Int("clickhouse-port", 19800, "private ClickHouse native port")
	chHTTP := flag.Int("clickhouse-http-port", 18823, "private ClickHouse HTTP port")
	redisPort := flag.Int("redis-port", 16879, "private Redis port")
	brokerPort := flag.Int("broker-port", 19892, "embedded broker port")
	keep := flag.Bool("keep-stack", false, "leave ClickHouse and Redis running afterwards")
	procFlags := flag.String("process-flags", os.Getenv("BENCH_PROCESS_FLAGS"), "extra flags of `teplokarta process`, space-separated, e.g. \"--dedup-state local\" [$BENCH_PROCESS_FLAGS]")
	drain := flag.Duration("drain-timeout", 60*time.Minute, "longest one drain may take")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	absBin, err := filepath.Abs(*bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	absState, err := filepath.Abs(*state)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cfg := benchpeer.Config{Bin: absBin, BrokerPort: *brokerPort, Messages: *messages, Rounds: *rounds, Seed: *seed,
		Freshness: *fresh, DrainTimeout: *drain, KeepStack: *keep, Log: os.Stderr, ProcessFlags: strings.Fields(*procFlags),
		Stack: chaos.Stack{Script: "deploy/local/stack.sh", StateDir: absState, CHPort: *chPort, CHHTTP: *chHTTP, RedisPort: *redisPort}}
	rep, err := benchpeer.Run(ctx, cfg)
	if rep != nil && len(rep.Results) > 0 {
		fmt.Println()
		benchpeer.PrintTable(os.Stdout, rep)
		benchpeer.PrintTargets(os.Stdout, rep)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-peer:", err)
		return 1
	}
	return 0
}

func envInt(name string, def int) int {
	var v int
	if _, err := fmt.Sscan(os.Getenv(name), &v); err == nil {
		return v
	}
	return def
}
