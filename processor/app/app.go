// Package app assembles a processor from its stages: the one place where the stage packages meet, used
// by the `process` and `run` commands and by the end-to-end tests.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
	"github.com/teplokarta/teplokarta/processor/dedup"
	"github.com/teplokarta/teplokarta/processor/enrich"
	"github.com/teplokarta/teplokarta/processor/normalize"
	"github.com/teplokarta/teplokarta/processor/pii"
	"github.com/teplokarta/teplokarta/processor/pipeline"
	"github.com/teplokarta/teplokarta/processor/resolve"
	"github.com/teplokarta/teplokarta/processor/rollup"
	"github.com/teplokarta/teplokarta/processor/sink"
	"github.com/teplokarta/teplokarta/processor/window"
)

// Options of a processor instance.
type Options struct {
	Pipeline pipeline.Config
	Window   window.Config
	Dedup    dedup.Config // KeyPrefix scopes the Redis keys
	// DedupState is where the dedup state lives: DedupRedis (the default; any number of instances),
	// DedupLocal (this process; only while it holds every partition of its topics) or DedupPartition
	// (with the partitions of appeals.enriched that own its scopes; any number of instances, two stages).
	DedupState string
	// EnrichedPartitions is the partition count appeals.enriched has at least (DedupPartition); default 8.
	// It bounds the second stage's instances. A topic with fewer partitions grows to it, under running
	// instances too (they take up the added partitions and forward what was keyed under the old count).
	EnrichedPartitions int
	// Sink: BlockRows, RoundRows and RoundLinger (Gate, Settle, Upstream and Backlog are wired by Build).
	Sink sink.Config
	// Deduper replaces the Redis deduper built from Dedup (then Clients.Redis may be nil and no state is
	// rebuilt at start). Benchmarks use it to measure the rest of the pipeline without Redis.
	Deduper   pipeline.Deduper
	PIIKey    string            // HMAC key of identity hashes (pii.ResolveKey decides which key a program may use)
	Sources   *sources.Registry // parsers by source; nil: the four built-in sources
	Enrich    *enrich.Stage
	Gazetteer *geo.Gazetteer // nil: the default region
}

// Where the dedup state lives (Options.DedupState).
const (
	DedupRedis     = "redis"
	DedupLocal     = "local"
	DedupPartition = "partition"
)

// DefaultOptions returns the documented defaults of every stage.
func DefaultOptions() Options {
	return Options{Pipeline: pipeline.DefaultConfig(), Window: window.DefaultConfig(), Dedup: dedup.DefaultConfig(),
		Sink:   sink.Config{BlockRows: sink.DefaultBlockRows, RoundRows: sink.DefaultRoundRows, RoundLinger: sink.DefaultRoundLinger},
		PIIKey: pii.LocalKey, DedupState: DedupRedis, EnrichedPartitions: 8}
}

// Validate checks every stage's configuration and how the pipeline's budgets and the sink's rounds fit.
func (o Options) Validate() error {
	return errors.Join(o.Pipeline.Validate(), o.Window.Validate(), o.Dedup.Validate(), o.Sink.Validate(), o.roundsFit(),
		o.dedupStateValid())
}

func (o Options) dedupStateValid() error {
	switch o.DedupState {
	case "", DedupRedis, DedupLocal:
		return nil
	case DedupPartition:
		if o.EnrichedPartitions < 1 {
			return fmt.Errorf("processor: %s needs at least one partition, got %d", model.TopicEnriched, o.EnrichedPartitions)
		}
		return nil
	}
	return fmt.Errorf("processor: dedup state %q: want %q, %q or %q", o.DedupState, DedupRedis, DedupLocal, DedupPartition)
}

// roundsFit refuses carried batches whose budget cannot fill a waiting round: with fewer unstored rows
// allowed than a round and one more batch, partitions stop before the round is full, and every round
// would wait its whole linger for rows that cannot come.
func (o Options) roundsFit() error {
	if o.Pipeline.CarryBatches <= 0 || o.Sink.RoundLinger <= 0 {
		return nil
	}
	rows := o.Sink.RoundRows
	if rows <= 0 {
		rows = sink.DefaultRoundRows
	}
	if o.Pipeline.MaxUnstored < rows+o.Pipeline.BatchSize {
		return fmt.Errorf("processor: max unstored rows (%d) must hold a round (%d rows) and a batch (%d) while rounds wait (linger %s), or every round waits its whole linger: raise it, lower the round rows, or turn the wait off",
			o.Pipeline.MaxUnstored, rows, o.Pipeline.BatchSize, o.Sink.RoundLinger)
	}
	return nil
}

// Clients are the opened connections a processor uses.
type Clients struct {
	ClickHouse driver.Conn
	// ClickHouseDial reaches each shard's own server, for rollup repairs on a cluster of several shards
	// (chstore.Config.Dial); nil: such a repair refuses and the settle after a failed INSERT keeps failing.
	ClickHouseDial rollup.Dialer
	// ClickHouseAuth is the connection's user and password (chstore.Config.Auth): on a cluster the sink's
	// exact reads and the rollup check read every replica through remote() as this user. Zero: user
	// default without a password, which a production cluster refuses.
	ClickHouseAuth chstore.Auth
	Redis          redis.UniversalClient
	Registerer     prometheus.Registerer // nil: metrics are not registered
	Log            *slog.Logger
	Now            func() time.Time // nil: time.Now
}

// Processor is an assembled processor instance.
type Processor struct {
	*pipeline.Engine
	dedup *dedup.Redis
	ch    driver.Conn
	// With DedupPartition, the first stage (raw topics → appeals.enriched) runs beside the Engine, which
	// then consumes appeals.enriched.
	local       *dedup.Local       // with DedupLocal
	parts       *dedup.Partitioned // with DedupPartition
	rekey       *pipeline.Rekey
	rekeyWriter io.Closer
	enriched    func(context.Context) error // creates appeals.enriched
}

// DedupStateBytes estimates the heap an in-process dedup state holds (0 with the state in Redis).
func (p *Processor) DedupStateBytes() int64 {
	switch {
	case p.local != nil:
		return p.local.Size().HeapBytes()
	case p.parts != nil:
		return p.parts.Size().HeapBytes()
	}
	return 0
}

// ErrSchemaBehind is returned by Run when ClickHouse lacks migrations this binary expects.
var ErrSchemaBehind = errors.New("clickhouse schema is behind this binary: run `teplokarta migrate`")

// Run checks the schema, restores the dedup state from ClickHouse if Redis lost it, then consumes until
// ctx ends.
func (p *Processor) Run(ctx context.Context) error {
	done, err := chstore.Applied(ctx, p.ch)
	if err != nil {
		return err
	}
	for _, m := range chstore.ProjectMigrations() {
		if !done[m.ID] {
			return fmt.Errorf("%w (missing %s)", ErrSchemaBehind, m.ID)
		}
	}
	if p.dedup != nil { // it logs a rebuild itself
		if _, _, err := p.dedup.EnsureState(ctx, p.ch, time.Now()); err != nil {
			return err
		}
	}
	if p.rekey == nil {
		if err := refuseAfterPartitionMode(ctx, p.ch); err != nil {
			return err
		}
		return p.Engine.Run(ctx)
	}
	defer p.rekeyWriter.Close()
	if err := p.enriched(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	first := make(chan error, 1)
	go func() {
		err := p.rekey.Run(ctx)
		cancel() // the second stage alone would wait for appeals that never come
		first <- err
	}()
	err = p.Engine.Run(ctx)
	cancel()
	return errors.Join(err, <-first)
}

// resumeChecks run before an instance resumes partitions (start, every rebalance): the dedup state is made
// whole (rebuilt from ClickHouse if Redis lost it — a batch that found it lost ended the generation), then
// the views of the partitions' last rows are checked and repaired.
type resumeChecks struct {
	dedup    *dedup.Redis       // nil: a deduper without Redis state
	local    *soleOwner         // nil: the dedup state is not in this process
	parts    *dedup.Partitioned // nil: the dedup state is not with appeals.enriched's partitions
	brokers  []string
	security kafkax.Security
	ch       driver.Conn
	rollups  *rollup.Checker
}

func (r resumeChecks) CheckResumed(ctx context.Context, generation int32, partitions map[string][]int, window int64) error {
	if r.dedup != nil {
		if _, _, err := r.dedup.EnsureState(ctx, r.ch, time.Now()); err != nil {
			return err
		}
	}
	if r.local != nil {
		if err := r.local.resume(ctx, partitions); err != nil {
			return err
		}
	}
	if r.parts != nil {
		all, err := kafkax.Partitions(ctx, r.brokers, r.security, model.TopicEnriched)
		if err != nil {
			return fmt.Errorf("processor: partitions of %s: %w", model.TopicEnriched, err)
		}
		if _, err := r.parts.Resume(ctx, r.ch, generation, partitions[model.TopicEnriched], len(all)); err != nil {
			return err
		}
	}
	return r.rollups.CheckResumed(ctx, partitions, window)
}

// Build assembles the processor. When o.Enrich is nil, appeals are enriched by the resolver alone.
func Build(o Options, c Clients) (*Processor, error) {
	win, err := window.New(o.Window)
	if err != nil {
		return nil, err
	}
	var dd *dedup.Redis
	var sole *soleOwner
	stage := o.Deduper
	if stage == nil && o.DedupState == DedupLocal {
		dcfg := o.Dedup
		dcfg.Registerer, dcfg.Logger = c.Registerer, c.Log
		ld, err := dedup.NewLocal(dcfg, c.Now)
		if err != nil {
			return nil, err
		}
		sole = &soleOwner{d: ld, ch: c.ClickHouse, brokers: o.Pipeline.Brokers, security: o.Pipeline.Security, topics: o.Pipeline.Topics,
			idHorizon: ld.IDHorizon(), log: logOrDefault(c.Log)}
		stage = pipeline.DedupStage{D: ld}
	}
	var parts *dedup.Partitioned
	if stage == nil && o.DedupState == DedupPartition {
		dcfg := o.Dedup
		dcfg.Registerer, dcfg.Logger = c.Registerer, c.Log
		if parts, err = dedup.NewPartitioned(dcfg, model.TopicEnriched, c.Now); err != nil {
			return nil, err
		}
		stage = pipeline.DedupStage{D: parts}
	}
	if stage == nil {
		dcfg := o.Dedup
		dcfg.Registerer, dcfg.Logger = c.Registerer, c.Log
		if dd, err = dedup.New(c.Redis, dcfg); err != nil {
			return nil, err
		}
		stage = pipeline.DedupStage{D: dd}
	}
	prod, err := pipeline.NewProducer(o.Pipeline.Brokers, o.Pipeline.Security)
	if err != nil {
		return nil, err
	}
	g := o.Gazetteer
	if g == nil {
		g = geo.Default()
	}
	reg := o.Sources
	if reg == nil {
		reg = sources.Default(o.PIIKey, sources.DefaultLimits())
	}
	st := o.Enrich
	if st == nil {
		st = &enrich.Stage{}
	}
	if st.Resolver == nil {
		st.Resolver = resolve.New(g)
	}
	// The rollup gate lives in Redis beside the dedup state; without Redis (benchmarks that take dedup
	// out) no other writer can be told apart, and the checks run ungated.
	var gate *rollup.Gate
	if err := o.Validate(); err != nil {
		return nil, err
	}
	var eng *pipeline.Engine
	scfg := o.Sink
	scfg.Upstream = func() int { return eng.Upstream() } // eng is set below, before any Write
	if o.Pipeline.CarryBatches > 0 {
		// Only carried batches leave room for a waiting round to fill whatever the backlog: a partition
		// that waits for its batch's INSERT brings nothing more, and the round waits for what is upstream.
		scfg.Backlog = func() int { return eng.Backlog() }
	}
	if c.Redis != nil {
		host, _ := os.Hostname()
		gate, err = rollup.NewGate(c.Redis, rollup.GateConfig{KeyPrefix: o.Dedup.KeyPrefix,
			Owner: fmt.Sprintf("%s/%d/%d", host, os.Getpid(), time.Now().UnixNano())})
		if err != nil {
			return nil, err
		}
		scfg.Gate = gate
	}
	checker := rollup.NewChecker(c.ClickHouse, gate, c.Log).WithDialer(c.ClickHouseDial).WithAuth(c.ClickHouseAuth)
	scfg.Settle = checker.Settle
	scfg.Auth = c.ClickHouseAuth
	sk := sink.New(c.ClickHouse, scfg, c.Log)
	if err := errors.Join(sk.Register(c.Registerer), st.Register(c.Registerer), checker.Register(c.Registerer)); err != nil {
		return nil, err
	}
	metrics := pipeline.NewMetrics(c.Registerer)
	norm := normalize.New(reg, pii.New(), c.Now)
	deps := pipeline.Deps{
		Normalizer: norm,
		Enricher:   st,
		Deduper:    stage,
		Windower:   win,
		Sink:       sk,
		Producer:   prod,
		Resume:     resumeChecks{dedup: dd, local: sole, parts: parts, brokers: o.Pipeline.Brokers, security: o.Pipeline.Security, ch: c.ClickHouse, rollups: checker},
		Metrics:    metrics,
		Log:        c.Log,
	}
	pcfg := o.Pipeline
	p := &Processor{dedup: dd, ch: c.ClickHouse, parts: parts}
	if sole != nil {
		p.local = sole.d
	}
	if parts != nil {
		if p.rekey, p.rekeyWriter, err = buildRekey(o, parts.IDHorizon(), c.Redis, c.ClickHouse, c.Now, norm, st, metrics, sk, c.Log); err != nil {
			return nil, err
		}
		brokers, sec, n, log := o.Pipeline.Brokers, o.Pipeline.Security, o.EnrichedPartitions, logOrDefault(c.Log)
		// The topic grows to n partitions, never shrinks. Growing it under running instances is safe: they
		// take up the new partitions, rebuild their states by scope (dedup.Partitioned.Resume) and forward
		// what was produced under the old count (Deps.Placement).
		p.enriched = func(ctx context.Context) error {
			before, after, err := kafkax.GrowTopic(ctx, brokers, sec, model.TopicEnriched, n)
			switch {
			case err != nil:
				return err
			case before > 0 && after > before:
				log.Info("partitions added to "+model.TopicEnriched, "before", before, "after", after)
			case after > n:
				log.Warn(model.TopicEnriched+" has more partitions than --enriched-partitions; Kafka keeps them", "partitions", after, "enriched_partitions", n)
			}
			return nil
		}
		// The second stage: what the first produced, already parsed and enriched.
		pcfg.Topics = []string{model.TopicEnriched}
		deps.Normalizer, deps.Enricher, deps.Placement = normalize.Enriched{}, nil, parts
	}
	if eng, err = pipeline.New(pcfg, deps); err != nil {
		return nil, err
	}
	p.Engine = eng
	return p, nil
}
