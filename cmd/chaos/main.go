// Command chaos is `make chaos`: the fault suite of internal/chaos on a private ClickHouse and Redis
// (deploy/local/stack.sh in its own state directory and ports), with an optional CPU-heavy neighbour.
// It prints a table (fault, runs, passed, what differed) and exits 1 when any run failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/teplokarta/teplokarta/internal/chaos"
)

func main() {
	os.Exit(realMain())
}

func realMain() int {
	runs := flag.Int("runs", envInt("CHAOS_RUNS", 20), "runs of each fault [$CHAOS_RUNS]")
	messages := flag.Int("messages", envInt("CHAOS_MESSAGES", 20000), "simulated messages per run [$CHAOS_MESSAGES]")
	pause := flag.Duration("clickhouse-pause", 60*time.Second, "how long ClickHouse stays down")
	faults := flag.String("faults", strings.Join(chaos.Faults, ","), "faults to run, comma-separated")
	bin := flag.String("bin", "bin/teplokarta", "the teplokarta binary")
	burn := flag.Int("burn", envInt("CHAOS_BURN", 2), "busy processes beside the suite (another CPU-heavy job on the machine) [$CHAOS_BURN]")
	seed := flag.Uint64("seed", 1, "first run's seed")
	oneStack := flag.Bool("one-stack", false, "run every fault on one stack, one after another (default: the server faults run on a\nsecond stack beside the others)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	state, err := os.MkdirTemp("", "teplokarta-chaos")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(state)
	abs, _ := filepath.Abs(*bin)
	stack := chaos.Stack{Script: "deploy/local/stack.sh", StateDir: filepath.Join(state, "a"), CHPort: 19300, CHHTTP: 18323, RedisPort: 16579}
	defer func() { _ = stack.Stop(context.Background()) }()
	// The faults that stop or wipe a server run on a second stack, beside the others.
	servers := chaos.Stack{Script: "deploy/local/stack.sh", StateDir: filepath.Join(state, "b"), CHPort: 19310, CHHTTP: 18333, RedisPort: 16589}
	if *oneStack {
		servers = chaos.Stack{}
	} else {
		defer func() { _ = servers.Stop(context.Background()) }()
	}
	for i := 0; i < *burn; i++ {
		cmd := exec.Command("sh", "-c", "while :; do :; done")
		if err := cmd.Start(); err == nil {
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		}
	}
	cfg := chaos.Config{Bin: abs, Stack: stack, ServerStack: servers, Runs: *runs, Messages: *messages, CHPause: *pause, Seed: *seed,
		Faults: strings.Split(*faults, ","), Log: os.Stderr}
	results, err := chaos.Run(ctx, cfg)
	fmt.Printf("\nchaos: %d runs of each fault, %d messages each, ClickHouse down %s, %d busy neighbours\n\n", *runs, *messages, *pause, *burn)
	chaos.PrintTable(os.Stdout, results)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 2
	}
	if chaos.Failed(results) {
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
