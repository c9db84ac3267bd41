// Package benchpeer is `make bench-peer`: one deterministic simulated backlog on the raw topics of an
// embedded broker, drained on the same machine and servers by (a) the peer — ClickHouse's own Kafka
// engine with materialized views into the same appeals table and rollups (peer.go) — and (b) the real
// `teplokarta process` binary, in alternating order over several rounds, with each process's CPU, peak
// memory and the freshness of single messages into the idle pipeline, printed as one table (table.go).
package benchpeer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/internal/chaos"
	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// Systems, as the table names them.
const (
	SystemPeer       = "peer"
	SystemTeplokarta = "teplokarta"
)

// Config of a benchmark run.
type Config struct {
	Bin          string        // the teplokarta binary (broker, process)
	Stack        chaos.Stack   // private ClickHouse and Redis (deploy/local/stack.sh); its ClickHouse gets a Kafka config
	BrokerPort   int           // the embedded broker's loopback port; default 19892
	Messages     int           // simulated backlog, retries included; default 1,000,000
	Rounds       int           // rounds, each draining the backlog with both; default 2
	Seed         uint64        // simulator seed; default 1
	Rate         float64       // simulated appeals per second (event-time density); default 7, as BenchmarkProcessBinaryHorizon
	Freshness    int           // single messages timed per system and round; default 50
	DrainTimeout time.Duration // one drain's limit; default 60m
	KeepStack    bool          // leave ClickHouse and Redis running afterwards
	ProcessFlags []string      // extra flags of `teplokarta process` (e.g. --dedup-state local)
	Log          io.Writer     // progress lines; nil: none
}

func (c *Config) defaults() {
	if c.BrokerPort == 0 {
		c.BrokerPort = 19892
	}
	if c.Messages == 0 {
		c.Messages = 1000000
	}
	if c.Rounds == 0 {
		c.Rounds = 2
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Rate == 0 {
		c.Rate = 7
	}
	if c.Freshness == 0 {
		c.Freshness = 50
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = 60 * time.Minute
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Validate checks the configuration (after defaults).
func (c Config) Validate() error {
	var errs []error
	if c.Bin == "" {
		errs = append(errs, errors.New("benchpeer: the teplokarta binary is required"))
	}
	if c.Messages < 1 || c.Rounds < 1 || c.Freshness < 1 || c.Rate <= 0 {
		errs = append(errs, errors.New("benchpeer: messages, rounds, freshness samples and rate must be positive"))
	}
	if c.BrokerPort < 1 || c.BrokerPort > 65535 {
		errs = append(errs, fmt.Errorf("benchpeer: broker port %d out of range", c.BrokerPort))
	}
	return errors.Join(append(errs, c.Stack.Validate())...)
}

// Result is one system's drain in one round.
type Result struct {
	System   string
	Round    int
	Position int           // 1 = drained first in its round
	Messages int           // records in the backlog it drained, retries included
	Unique   int           // unique appeals among them (the simulator's truth)
	Rows     int           // rows written to appeals (its rollups' total): the peer one per record — more where the Kafka engine delivered one twice — teplokarta one per unique appeal
	Took     time.Duration // from the start of consumption to the last row in appeals and the monthly rollup
	CPU      map[string]time.Duration
	PeakKiB  map[string]int64
	Fresh    []time.Duration // produce → visible in appeals, one single message at a time
}

// MessagesPerSec is the drain rate in records (retries included).
func (r Result) MessagesPerSec() float64 { return float64(r.Messages) / r.Took.Seconds() }

// UniquePerSec is the drain rate in unique appeals.
func (r Result) UniquePerSec() float64 { return float64(r.Unique) / r.Took.Seconds() }

// CPUPerMessage is a role's CPU in µs per drained record ("" role: all processes).
func (r Result) CPUPerMessage(role string) float64 {
	var d time.Duration
	for k, v := range r.CPU {
		if role == "" || k == role {
			d += v
		}
	}
	return d.Seconds() * 1e6 / float64(r.Messages)
}

// FreshQuantile is the q-quantile of the freshness samples (nearest rank).
func (r Result) FreshQuantile(q float64) time.Duration {
	if len(r.Fresh) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), r.Fresh...)
	for i := 1; i < len(s); i++ { // insertion sort: ≤ a few hundred samples
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Report is a whole run.
type Report struct {
	Messages, Unique int // the simulated backlog
	Rounds           int
	Seed             uint64
	Started          time.Time
	CPUs             int
	LoadStart        string // /proc/loadavg's first three fields
	LoadEnd          string
	ProcessFlags     []string // Config.ProcessFlags
	Results          []Result
}

// bench is one run's state.
type bench struct {
	cfg    Config
	broker *child
	admin  driver.Conn
	rdb    *redis.Client
	gen    *simulator.Generator
	w      *kafkax.Writer
	truth  *simulator.Truth
	procs  procSet // broker, ClickHouse, Redis
	gaz    *geo.Gazetteer
}

// Run simulates the backlog once and drains it cfg.Rounds times with each system.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, gaz: geo.Default()}
	rep := &Report{Rounds: cfg.Rounds, Seed: cfg.Seed, Started: time.Now(), CPUs: runtime.NumCPU(), LoadStart: loadavg(),
		ProcessFlags: cfg.ProcessFlags}
	if err := b.setUp(ctx); err != nil {
		b.tearDown()
		return nil, err
	}
	defer b.tearDown()
	rep.Messages, rep.Unique = b.truth.Messages, b.truth.Appeals
	for round := 1; round <= cfg.Rounds; round++ {
		order := []string{SystemPeer, SystemTeplokarta}
		if round%2 == 0 {
			order[0], order[1] = order[1], order[0]
		}
		for pos, sys := range order {
			var res Result
			var err error
			if sys == SystemPeer {
				res, err = b.peer(ctx, round)
			} else {
				res, err = b.teplokarta(ctx, round)
			}
			if err != nil {
				return rep, fmt.Errorf("round %d, %s: %w", round, sys, err)
			}
			res.Position = pos + 1
			rep.Results = append(rep.Results, res)
			fmt.Fprintf(cfg.Log, "benchpeer: round %d %s: %d messages (%d unique) in %s: %.0f messages/s, freshness p50 %s\n",
				round, sys, res.Messages, res.Unique, res.Took.Round(time.Millisecond), res.MessagesPerSec(), res.FreshQuantile(0.5).Round(time.Millisecond))
		}
	}
	rep.LoadEnd = loadavg()
	return rep, nil
}

func (b *bench) setUp(ctx context.Context) error {
	cfg := b.cfg
	// A new consumer group of the Kafka engine starts at the latest offset; the backlog needs the
	// earliest. The file lives in this stack's own config.d only (stack.sh keeps config.d).
	confd := filepath.Join(cfg.Stack.StateDir, "clickhouse", "config.d")
	if err := os.MkdirAll(confd, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(confd, "kafka.xml"),
		[]byte("<yandex><kafka><auto_offset_reset>smallest</auto_offset_reset></kafka></yandex>\n"), 0o644); err != nil {
		return err
	}
	if err := cfg.Stack.Start(ctx); err != nil {
		return err
	}
	dir := filepath.Join(cfg.Stack.StateDir, "kafka")
	if err := os.RemoveAll(dir); err != nil { // a fresh backlog every run
		return err
	}
	var err error
	if b.broker, err = startChild(cfg.Bin, "broker", "--port", strconv.Itoa(cfg.BrokerPort), "--data-dir", dir, "--metrics-addr", ""); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := kafkax.WaitReady(wctx, []string{b.brokerAddr()}, kafkax.Security{}); err != nil {
		return fmt.Errorf("benchpeer: broker: %w\n%s", err, b.broker.out)
	}
	chcfg := chstore.DefaultConfig()
	chcfg.Addr, chcfg.Database = cfg.Stack.ClickHouse(), "default"
	if b.admin, err = chstore.Open(ctx, chcfg); err != nil {
		return err
	}
	b.rdb = redis.NewClient(&redis.Options{Addr: cfg.Stack.Redis()})
	b.procs = procSet{roleBroker: b.broker.pid()}
	for role, addr := range map[string]string{roleClickHouse: cfg.Stack.ClickHouse(), roleRedis: cfg.Stack.Redis()} {
		if b.procs[role], err = testenv.ListenerPID(addr); err != nil {
			return fmt.Errorf("benchpeer: %s at %s: %w", role, addr, err)
		}
	}
	return b.simulate(ctx)
}

func (b *bench) tearDown() {
	if b.w != nil {
		_ = b.w.Close()
	}
	if b.admin != nil {
		b.admin.Close()
	}
	if b.rdb != nil {
		_ = b.rdb.Close()
	}
	if b.broker != nil {
		b.broker.stop(10 * time.Second)
	}
	if !b.cfg.KeepStack {
		_ = b.cfg.Stack.Stop(context.Background())
	}
	_ = os.RemoveAll(filepath.Join(b.cfg.Stack.StateDir, "kafka"))
}

func (b *bench) brokerAddr() string { return "127.0.0.1:" + strconv.Itoa(b.cfg.BrokerPort) }

// simulate writes the backlog: the same generator settings as BenchmarkProcessBinaryHorizon (every VK
// post with its point; event times within one 48 h dedup horizon for the default size).
func (b *bench) simulate(ctx context.Context) error {
	sc := simulator.DefaultConfig()
	sc.Seed, sc.Rate, sc.VKGeoShare = b.cfg.Seed, b.cfg.Rate, 1
	sc.Start = time.Now().Add(-60 * time.Hour).Truncate(time.Hour)
	var err error
	if b.gen, err = simulator.New(sc); err != nil {
		return err
	}
	pc := kafkax.DefaultProducerConfig()
	pc.Brokers = []string{b.brokerAddr()}
	if b.w, err = kafkax.NewWriter(pc); err != nil {
		return err
	}
	b.truth = simulator.NewTruth()
	began := time.Now()
	if err := simulator.Run(ctx, b.gen, simulator.KafkaSink{W: b.w}, simulator.RunConfig{Count: b.cfg.Messages, BatchSize: 1000}, b.truth); err != nil {
		return fmt.Errorf("benchpeer: simulate: %w", err)
	}
	fmt.Fprintf(b.cfg.Log, "benchpeer: backlog of %d messages (%d unique appeals, %d retries) in %s\n",
		b.truth.Messages, b.truth.Appeals, b.truth.Retries, time.Since(began).Round(time.Millisecond))
	return nil
}

// freshDB drops and recreates a database with the project's migrations.
func (b *bench) freshDB(ctx context.Context, db string) (driver.Conn, error) {
	if err := b.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
		return nil, err
	}
	chcfg := chstore.DefaultConfig()
	chcfg.Addr, chcfg.Database = b.cfg.Stack.ClickHouse(), db
	conn, err := chstore.Open(ctx, chcfg)
	if err != nil {
		return nil, err
	}
	if _, err := chstore.MigrateProject(ctx, conn); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// dropDB removes a phase's database at once, so that its merges do not run into the next phase.
func (b *bench) dropDB(db string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_ = b.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
