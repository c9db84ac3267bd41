package chaos

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/processor/sla"
	"github.com/teplokarta/teplokarta/processor/sla/clock"
	"github.com/teplokarta/teplokarta/processor/sla/policy"
)

// run is one run of one fault.
type run struct {
	cfg   Config
	fault string
	seed  uint64
	rng   *rand.Rand
	log   io.Writer
	took  time.Duration

	db, prefix string
	brokerPort int
	brokerDir  string
	broker     *child
	procs      []*child // processors
	others     []*child // other children of the run (ingest)
	ch         driver.Conn
	truth      *simulator.Truth
	slaLog     *TailBuffer // the SLA engine's log, printed when a run fails
}

// child is a process of the teplokarta binary this run started.
type child struct {
	cmd     *exec.Cmd
	done    chan struct{}
	metrics string      // host:port of its /metrics, if any
	out     *TailBuffer // stderr
}

func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	<-c.done
}

// stop asks the child to shut down (SIGTERM) and waits for it; it must exit cleanly within grace.
func (c *child) stop(grace time.Duration) error {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		return fmt.Errorf("still running %s after SIGTERM: %s", grace, c.dumpAndKill())
	}
	if code := c.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("exited with status %d after SIGTERM:\n%s", code, tail(c.out.String(), 1500))
	}
	return nil
}

// dumpAndKill asks a stuck child for its goroutines (SIGQUIT: the Go runtime prints every stack to stderr
// and exits), kills it if it is still there after 5 s, saves its log with the stacks to a file and returns
// where, with the log's tail before the stacks.
func (c *child) dumpAndKill() string {
	_ = c.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
	}
	c.kill()
	out := c.out.String()
	log := out
	if i := strings.Index(out, "SIGQUIT: quit"); i >= 0 {
		log = out[:i]
	}
	f, err := os.CreateTemp("", "teplokarta-chaos-stuck-*.txt")
	if err != nil {
		return fmt.Sprintf("its log (tail):\n%s", tail(log, 3000))
	}
	defer f.Close()
	_, _ = f.WriteString(out)
	return fmt.Sprintf("its log and goroutines are in %s; the log's tail:\n%s", f.Name(), tail(log, 3000))
}

func (r *run) start(args []string, env ...string) (*child, error) {
	cmd := exec.Command(r.cfg.Bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out := &TailBuffer{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan struct{}), out: out}
	go func() { _ = cmd.Wait(); close(c.done) }() // reap: a killed child must not linger as a zombie
	return c, nil
}

func (r *run) do(ctx context.Context) (err error) {
	began := time.Now()
	defer func() { r.took = time.Since(began) }()
	if err := r.cfg.Stack.Start(ctx); err != nil {
		return err
	}
	r.db = fmt.Sprintf("chaos_%s_%d", strings.ReplaceAll(r.fault, "-", "_"), r.seed)
	r.prefix = fmt.Sprintf("chaos:%s:%d:", r.fault, r.seed)
	chcfg := chstore.DefaultConfig()
	chcfg.Addr, chcfg.Database = r.cfg.Stack.ClickHouse(), r.db
	old, err := chstore.Open(ctx, chcfg)
	if err != nil {
		return err
	}
	err = old.Exec(ctx, "DROP DATABASE IF EXISTS "+r.db) // a previous suite's leftovers
	old.Close()
	if err != nil {
		return err
	}
	if r.ch, err = chstore.Open(ctx, chcfg); err != nil { // creates the database again
		return err
	}
	defer r.ch.Close()
	if _, err := chstore.MigrateProject(ctx, r.ch); err != nil {
		return err
	}
	if r.brokerDir, err = os.MkdirTemp("", "chaos-broker"); err != nil {
		return err
	}
	defer os.RemoveAll(r.brokerDir)
	if r.brokerPort, err = freePort(); err != nil {
		return err
	}
	if err := r.startBroker(ctx); err != nil {
		return err
	}
	defer func() { r.broker.kill() }()
	defer func() {
		for _, p := range append(r.procs, r.others...) {
			p.kill()
		}
		if err != nil && len(r.procs) > 0 {
			fmt.Fprintf(r.log, "chaos: last processor's log (tail):\n%s\n", tail(r.procs[len(r.procs)-1].out.String(), 1500))
		}
		if err != nil {
			fmt.Fprintf(r.log, "chaos: the SLA engine's log (tail):\n%s\n", tail(r.slaLog.String(), 3000))
		}
	}()
	if r.fault == "ingest-sigkill" {
		r.truth = simulator.NewTruth() // the stream goes through ingest during the fault
	} else if err := r.simulate(ctx); err != nil {
		return err
	}
	stopSLA, slaEng, err := r.startSLA(ctx)
	if err != nil {
		return err
	}
	defer stopSLA()
	if err := r.inject(ctx); err != nil {
		return fmt.Errorf("injecting %s: %w", r.fault, err)
	}
	if err := r.check(ctx, slaEng); err != nil {
		return err
	}
	_ = r.ch.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+r.db)
	r.dropKeys(context.WithoutCancel(ctx))
	return nil
}

// dropKeys deletes a passed run's Redis keys, as its database is dropped: left behind, a suite's worth of
// dedup state makes every later RDB snapshot of the stack's Redis slower.
func (r *run) dropKeys(ctx context.Context) {
	rdb := redis.NewClient(&redis.Options{Addr: r.cfg.Stack.Redis()})
	defer rdb.Close()
	it := rdb.Scan(ctx, 0, r.prefix+"*", 1000).Iterator()
	var batch []string
	for it.Next(ctx) {
		if batch = append(batch, it.Val()); len(batch) == 1000 {
			_ = rdb.Unlink(ctx, batch...).Err()
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		_ = rdb.Unlink(ctx, batch...).Err()
	}
}

func (r *run) startBroker(ctx context.Context) error {
	b, err := r.start([]string{"broker", "--port", strconv.Itoa(r.brokerPort), "--data-dir", r.brokerDir, "--metrics-addr", ""})
	if err != nil {
		return err
	}
	r.broker = b
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := kafkax.WaitReady(wctx, []string{r.brokerAddr()}, kafkax.Security{}); err != nil {
		return fmt.Errorf("broker: %w\n%s", err, b.out.String())
	}
	return nil
}

func (r *run) brokerAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.brokerPort)) }

// simulate writes the run's deterministic stream to the broker and keeps its truth.
func (r *run) simulate(ctx context.Context) error {
	g, err := simulator.New(r.simConfig())
	if err != nil {
		return err
	}
	pc := kafkax.DefaultProducerConfig()
	pc.Brokers = []string{r.brokerAddr()}
	w, err := kafkax.NewWriter(pc)
	if err != nil {
		return err
	}
	defer w.Close()
	r.truth = simulator.NewTruth()
	return simulator.Run(ctx, g, simulator.KafkaSink{W: w}, simulator.RunConfig{Count: r.cfg.Messages, BatchSize: 1000}, r.truth)
}

// simConfig is the run's stream: its seed, ten days back, every VK post with a point.
func (r *run) simConfig() simulator.Config {
	sc := simulator.DefaultConfig()
	sc.Seed, sc.Start, sc.Rate, sc.VKGeoShare = r.seed, time.Now().Add(-10*24*time.Hour).Truncate(time.Hour), 0.05, 1
	return sc
}

// startProcessor starts one `teplokarta process` with its /metrics on a free port.
func (r *run) startProcessor(env ...string) (*child, error) { return r.startProcessorWith(nil, env...) }

// startProcessorWith starts a processor with flags after the suite's (the last of a flag wins).
func (r *run) startProcessorWith(flags []string, env ...string) (*child, error) {
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		c, err := r.start(append([]string{"process", "--local", "--brokers", r.brokerAddr(), "--group", "chaos",
			"--clickhouse-addr", r.cfg.Stack.ClickHouse(), "--clickhouse-database", r.db,
			"--redis-addr", r.cfg.Stack.Redis(), "--redis-prefix", r.prefix,
			"--batch-size", "2000", "--session-timeout", "6s", "--metrics-addr", addr}, slices.Concat(r.cfg.ProcessFlags, flags)...), env...)
		if err != nil {
			return nil, err
		}
		// freePort's port can be taken again before the child binds it (the two stacks' runs pick ports at
		// the same time): a child that died of that is started again on another port.
		if listening(addr, c.done) || attempt == 5 || !strings.Contains(c.out.String(), "address already in use") {
			c.metrics = addr
			r.procs = append(r.procs, c)
			return c, nil
		}
	}
}

// listening waits until addr accepts connections (true) or the child exits first (false); after a
// minute it stops waiting (true: the run's own checks report a child that never serves).
func listening(addr string, done <-chan struct{}) bool {
	for end := time.Now().Add(time.Minute); time.Now().Before(end); {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return true
		}
		select {
		case <-done:
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
	return true
}

// startSLA runs the SLA engine in this process on the run's Redis prefix, reconciling every second.
func (r *run) startSLA(ctx context.Context) (stop func(), eng *sla.Engine, err error) {
	cfg := sla.DefaultConfig()
	cfg.KeyPrefix, cfg.Brokers, cfg.Group = r.prefix+"sla:", []string{r.brokerAddr()}, "chaos-sla"
	cfg.ReconcileInterval, cfg.ReconcileGrace = time.Second, 5*time.Second
	pol, err := policy.New(policy.DefaultConfig())
	if err != nil {
		return nil, nil, err
	}
	rdb := redis.NewClient(&redis.Options{Addr: r.cfg.Stack.Redis()})
	eng, err = sla.New(cfg, rdb, r.ch, pol, clock.Real{}, slog.New(slog.NewTextHandler(r.slaLog, nil)), nil)
	if err != nil {
		rdb.Close()
		return nil, nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for sctx.Err() == nil { // a Redis or ClickHouse outage ends Run with an error: start it again
			if err := eng.Run(sctx); err != nil && sctx.Err() == nil {
				time.Sleep(time.Second)
			}
		}
	}()
	return func() { cancel(); <-done; eng.Close(); rdb.Close() }, eng, nil
}

// rows is how many appeals ClickHouse holds (0 while it is down).
func (r *run) rows(ctx context.Context) int {
	var n uint64
	if err := r.ch.QueryRow(ctx, "SELECT count() FROM appeals").Scan(&n); err != nil {
		return 0
	}
	return int(n)
}

// waitFor waits until ClickHouse holds at least frac of the truth's appeals.
func (r *run) waitFor(ctx context.Context, frac float64) error {
	want := int(float64(r.truth.Appeals) * frac)
	for r.rows(ctx) < want {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d rows: %w (have %d)", want, ctx.Err(), r.rows(context.WithoutCancel(ctx)))
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// ProcessorLag sums teplokarta_processor_lag_records over a processor's /metrics (host:port); an error
// until the processor reports a partition.
func ProcessorLag(ctx context.Context, addr string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	sum, seen := 0.0, false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "teplokarta_processor_lag_records{") {
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				return 0, err
			}
			sum, seen = sum+v, true
		}
	}
	if !seen {
		return 0, fmt.Errorf("no lag reported yet")
	}
	return sum, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
