// Command chaos is `make chaos`: the fault suite of internal/chaos on a private ClickHouse and Redis
// (deploy/local/stack.sh in its own state directory and ports), with an optional CPU-heavy neighbour.
// It prints a table (fault, runs, passed, what differed) and exits 1 when any run failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	_ "net/http/pprof" // --pprof: the suite's own heap, for its memory
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
	faults := flag.String("faults", "", "faults to run, comma-separated (default: every one the process flags allow: "+strings.Join(chaos.Faults, ",")+";\nwith --dedup-state local all but scale-three, grow-enriched only with --dedup-state partition)")
	bin := flag.String("bin", "bin/teplokarta", "the teplokarta binary")
	burn := flag.Int("burn", envInt("CHAOS_BURN", 2), "busy processes beside the suite (another CPU-heavy job on the machine) [$CHAOS_BURN]")
	seed := flag.Uint64("seed", 1, "first run's seed")
	ports := flag.String("ports", "19300,18323,16579,19310,18333,16589", "ClickHouse native, ClickHouse HTTP and Redis ports of the first stack, then of the second;\nthe extra stacks take the first stack's plus 20, 30, … (another suite at the same time needs other ports)")
	lanes := flag.Int("lanes", 3, "stacks the faults that do not stop a server are dealt over, running at the same time\n(the server faults have their own); 1 = one after another")
	serverLanes := flag.Int("server-lanes", 2, "stacks the faults that stop or wipe a server are dealt over (clickhouse-stop, redis-wipe), running at the same time;\nthe second takes the first stack's ports plus 40, a third plus 50, …")
	oneStack := flag.Bool("one-stack", false, "run every fault on one stack, one after another (default: the server faults run on a\nsecond stack beside the others)")
	procFlags := flag.String("process-flags", os.Getenv("CHAOS_PROCESS_FLAGS"), "extra flags of every `teplokarta process`, space-separated, e.g. \"--dedup-state partition\" [$CHAOS_PROCESS_FLAGS]")
	pprofAddr := flag.String("pprof", "", "serve the suite's own Go profiles (net/http/pprof) on this address, e.g. 127.0.0.1:6061")
	flag.Parse()
	if *pprofAddr != "" {
		go func() { fmt.Fprintln(os.Stderr, "chaos: pprof:", http.ListenAndServe(*pprofAddr, nil)) }()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	state, err := os.MkdirTemp("", "teplokarta-chaos")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(state)
	abs, _ := filepath.Abs(*bin)
	var p [6]int
	if n, err := fmt.Sscanf(strings.ReplaceAll(*ports, ",", " "), "%d %d %d %d %d %d", &p[0], &p[1], &p[2], &p[3], &p[4], &p[5]); err != nil || n != 6 {
		fmt.Fprintf(os.Stderr, "chaos: --ports %q: want six ports, comma-separated\n", *ports)
		return 2
	}
	stack := chaos.Stack{Script: "deploy/local/stack.sh", StateDir: filepath.Join(state, "a"), CHPort: p[0], CHHTTP: p[1], RedisPort: p[2]}
	defer func() { _ = stack.Stop(context.Background()) }()
	// The faults that stop or wipe a server run on a second stack, beside the others.
	servers := chaos.Stack{Script: "deploy/local/stack.sh", StateDir: filepath.Join(state, "b"), CHPort: p[3], CHHTTP: p[4], RedisPort: p[5]}
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
	var extra []chaos.Stack
	for i := 1; i < *lanes; i++ {
		off := 10 * (i + 1)
		st := chaos.Stack{Script: "deploy/local/stack.sh", StateDir: filepath.Join(state, fmt.Sprintf("lane%d", i+1)), CHPort: p[0] + off, CHHTTP: p[1] + off, RedisPort: p[2] + off}
		extra = append(extra, st)
		defer func() { _ = st.Stop(context.Background()) }()
	}
	var extraServers []chaos.Stack
	for i := 1; i < *serverLanes && !*oneStack; i++ {
		off := 10 * (i + 3)
		st := chaos.Stack{Script: "deploy/local/stack.sh", StateDir: filepath.Join(state, fmt.Sprintf("servers%d", i+1)), CHPort: p[0] + off, CHHTTP: p[1] + off, RedisPort: p[2] + off}
		extraServers = append(extraServers, st)
		defer func() { _ = st.Stop(context.Background()) }()
	}
	cfg := chaos.Config{Bin: abs, Stack: stack, ServerStack: servers, ExtraServerStacks: extraServers, ExtraStacks: extra, Runs: *runs, Messages: *messages, CHPause: *pause, Seed: *seed, ProcessFlags: strings.Fields(*procFlags),
		Faults: splitFaults(*faults), Log: os.Stderr}
	if *faults == "" && len(chaos.Applicable(cfg.ProcessFlags)) < len(chaos.Faults) {
		fmt.Fprintln(os.Stderr, "chaos: scale-three left out: with --dedup-state local only one processor consumes at a time")
	}
	results, err := chaos.Run(ctx, cfg)
	fmt.Printf("\nchaos: %d runs of each fault, %d messages each, ClickHouse down %s, %d busy neighbours\n\n", *runs, *messages, *pause, *burn)
	chaos.PrintTable(os.Stdout, results)
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		fmt.Printf("\nchaos: the suite's own peak RSS %d MiB (servers and children not counted)\n", ru.Maxrss/1024)
	}
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

// splitFaults is the -faults list; empty: the suite's default.
func splitFaults(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return strings.Split(s, ",")
}
