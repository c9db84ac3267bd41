// Package chaos runs the fault suite behind `make chaos`: a deterministic simulated stream with ground
// truth flows through the real binaries (embedded broker, processors) and the real servers (ClickHouse,
// Redis) while one fault is injected, and afterwards every figure a user reads is compared with the
// truth: appeals and every rollup, the rollups against appeals (processor/rollup), one SLA record per
// incident, and a processor lag of zero. The servers are its own (a private stack it may stop and wipe).
package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Config of a suite run.
type Config struct {
	Bin   string // the teplokarta binary (broker, process)
	Stack Stack  // the private servers it controls
	// ServerStack, when set (its ports non-zero), is a second private stack: the faults that stop or wipe
	// a server (ServerFaults) run there, at the same time as the others run on Stack. ClickHouse's
	// outage is mostly waiting, so the suite's wall time drops by about that much.
	ServerStack Stack
	// ExtraServerStacks are more stacks for the server faults, dealt over ServerStack and these as the
	// others are over Stack and ExtraStacks (clickhouse-stop and redis-wipe each on its own, at once).
	ExtraServerStacks []Stack
	// ExtraStacks are more private stacks for the other faults: those are dealt over Stack and these in
	// order (fault i of them on stack i mod n), each stack running its faults one after another and the
	// stacks at the same time. A run mostly waits (session timeouts, restarts, the checks' polls), so
	// lanes finish a 30-run suite in a fraction of the time one lane takes.
	ExtraStacks []Stack
	Runs        int           // runs of each fault; default 20
	Messages    int           // simulated messages per run; default 20000
	CHPause     time.Duration // how long ClickHouse stays down; default 60s
	Seed        uint64        // first run's seed; run i uses Seed+i
	Faults      []string      // default: every fault of Faults the processor flags allow (Applicable)
	RunTimeout  time.Duration // one run's limit; default 8m
	Log         io.Writer     // progress lines; nil: none
	// ProcessFlags are extra flags of every `teplokarta process` the suite starts (e.g. --dedup-state
	// partition).
	ProcessFlags []string
}

// Faults are the faults the suite knows, in the order it runs them.
var Faults = []string{"processor-sigkill", "kill-after-store", "rebalance-kill", "scale-three", "ingest-sigkill", "broker-restart", "clickhouse-stop", "redis-wipe", "grow-enriched"}

// soleConsumer says whether processFlags run the processors with --dedup-state local, where only one
// member of the group consumes at a time: a second one makes both wait until one is gone.
func soleConsumer(processFlags []string) bool { return dedupState(processFlags) == "local" }

// flagValue is the last value processFlags give the flag name (-name v, --name v, -name=v, --name=v), and
// whether they give it at all.
func flagValue(processFlags []string, name string) (string, bool) {
	val, set := "", false
	for i, f := range processFlags {
		f = strings.TrimLeft(f, "-")
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			val, set = v, true
		} else if f == name && i+1 < len(processFlags) {
			val, set = processFlags[i+1], true
		}
	}
	return val, set
}

// dedupState is the value of --dedup-state in processFlags ("" when not set).
func dedupState(processFlags []string) string {
	v, _ := flagValue(processFlags, "dedup-state")
	return v
}

// Applicable are the faults of Faults that processFlags allow: with --dedup-state local not
// scale-three, which keeps three processors consuming together to the end (rebalance-kill ends with one);
// grow-enriched only with --dedup-state partition, the only mode with appeals.enriched.
func Applicable(processFlags []string) []string {
	return slices.DeleteFunc(slices.Clone(Faults), func(f string) bool { return notApplicable(processFlags, f) != "" })
}

// notApplicable says why processFlags rule out fault ("" if they do not).
func notApplicable(processFlags []string, fault string) string {
	switch {
	case fault == "scale-three" && soleConsumer(processFlags):
		return "scale-three keeps three processors consuming together, and with --dedup-state local only one " +
			"consumes at a time (by design): it would wait out its run's time"
	case fault == "grow-enriched" && dedupState(processFlags) != "partition":
		return "grow-enriched grows appeals.enriched, which only --dedup-state partition has"
	}
	return ""
}

// ServerFaults are the faults that stop or wipe a server of the stack (see Config.ServerStack).
var ServerFaults = []string{"clickhouse-stop", "redis-wipe"}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Bin == "" {
		return errors.New("chaos: the teplokarta binary is required")
	}
	for _, f := range c.Faults {
		if !slices.Contains(Faults, f) {
			return fmt.Errorf("chaos: unknown fault %q (known: %s)", f, strings.Join(Faults, ", "))
		}
		if why := notApplicable(c.ProcessFlags, f); why != "" {
			return fmt.Errorf("chaos: %s; leave it out of --faults", why)
		}
	}
	if err := c.Stack.Validate(); err != nil {
		return err
	}
	stacks := append([]Stack{c.Stack}, c.ExtraStacks...)
	if c.twoLanes() {
		stacks = append(stacks, c.ServerStack)
		stacks = append(stacks, c.ExtraServerStacks...)
	} else if len(c.ExtraServerStacks) > 0 {
		return errors.New("chaos: extra server stacks need a server stack")
	}
	dirs, ports := map[string]bool{}, map[int]bool{}
	for i, st := range stacks {
		if i > 0 {
			if err := st.Validate(); err != nil {
				return fmt.Errorf("chaos: stack %d: %w", i+1, err)
			}
		}
		if dirs[st.StateDir] || ports[st.CHPort] || ports[st.CHHTTP] || ports[st.RedisPort] {
			return errors.New("chaos: each stack needs its own state directory and ports")
		}
		dirs[st.StateDir], ports[st.CHPort], ports[st.CHHTTP], ports[st.RedisPort] = true, true, true, true
	}
	return nil
}

func (c Config) twoLanes() bool { return c.ServerStack.CHPort != 0 }

func (c *Config) defaults() {
	if c.Runs <= 0 {
		c.Runs = 20
	}
	if c.Messages <= 0 {
		c.Messages = 20000
	}
	if c.CHPause <= 0 {
		c.CHPause = 60 * time.Second
	}
	if len(c.Faults) == 0 {
		c.Faults = Applicable(c.ProcessFlags)
	}
	if c.RunTimeout <= 0 {
		c.RunTimeout = 8 * time.Minute
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Result is one fault's row of the table.
type Result struct {
	Fault    string
	Runs     int
	Passed   int
	Failures []string // what differed, per failed run
	Took     time.Duration
}

// Run runs every fault cfg.Runs times and returns one result per fault, in cfg.Faults' order. With a
// ServerStack, the server faults run on it beside the others; each stack still runs one run at a time.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Log = &lockedWriter{w: cfg.Log} // two lanes write their progress lines at once
	lanes := cfg.deal()
	var (
		mu   sync.Mutex
		done = map[string]Result{}
		wg   sync.WaitGroup
	)
	for st, faults := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lane := cfg
			lane.Stack = st
			for _, fault := range faults {
				if ctx.Err() != nil {
					return
				}
				res := runFault(ctx, lane, fault)
				mu.Lock()
				done[fault] = res
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var out []Result
	for _, f := range cfg.Faults {
		if r, ok := done[f]; ok {
			out = append(out, r)
		}
	}
	return out, ctx.Err()
}

// deal assigns each fault to a stack: the server faults over ServerStack and ExtraServerStacks (when there is
// a ServerStack), the others over Stack and ExtraStacks, in turn. A stack runs its faults in this order.
func (c Config) deal() map[Stack][]string {
	lanes := map[Stack][]string{}
	general := append([]Stack{c.Stack}, c.ExtraStacks...)
	servers := append([]Stack{c.ServerStack}, c.ExtraServerStacks...)
	n, ns := 0, 0
	for _, f := range c.Faults {
		var st Stack
		if c.twoLanes() && slices.Contains(ServerFaults, f) {
			st, ns = servers[ns%len(servers)], ns+1
		} else {
			st, n = general[n%len(general)], n+1
		}
		lanes[st] = append(lanes[st], f)
	}
	return lanes
}

// runFault runs one fault cfg.Runs times on cfg.Stack.
func runFault(ctx context.Context, cfg Config, fault string) Result {
	res := Result{Fault: fault}
	began := time.Now()
	for i := range cfg.Runs {
		if ctx.Err() != nil {
			break
		}
		seed := cfg.Seed + uint64(i)
		rctx, cancel := context.WithTimeout(ctx, cfg.RunTimeout)
		r := &run{cfg: cfg, fault: fault, seed: seed, rng: rand.New(rand.NewPCG(seed, 7)), log: cfg.Log, slaLog: &TailBuffer{}}
		err := r.do(rctx)
		cancel()
		res.Runs++
		if err == nil {
			res.Passed++
			fmt.Fprintf(cfg.Log, "chaos: %s run %d/%d passed (%s)\n", fault, i+1, cfg.Runs, r.took.Round(time.Second))
		} else {
			res.Failures = append(res.Failures, fmt.Sprintf("run %d (seed %d): %v", i+1, seed, err))
			fmt.Fprintf(cfg.Log, "chaos: %s run %d/%d FAILED: %v\n", fault, i+1, cfg.Runs, err)
		}
	}
	res.Took = time.Since(began)
	return res
}

// PrintTable writes the results as a table: fault, runs, passed, what differed.
func PrintTable(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "fault\truns\tpassed\ttime\twhat differed")
	for _, r := range results {
		what := "—"
		if len(r.Failures) > 0 {
			what = r.Failures[0]
			if len(r.Failures) > 1 {
				what += fmt.Sprintf(" (+%d more)", len(r.Failures)-1)
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d/%d\t%s\t%s\n", r.Fault, r.Runs, r.Passed, r.Runs, r.Took.Round(time.Second), what)
	}
	_ = tw.Flush()
}

// Failed reports whether any run failed.
func Failed(results []Result) bool {
	for _, r := range results {
		if r.Passed != r.Runs {
			return true
		}
	}
	return false
}

// lockedWriter lets several lanes write their progress lines to one writer at once.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
