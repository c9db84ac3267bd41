package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/obs"
	"github.com/teplokarta/teplokarta/processor/app"
	"github.com/teplokarta/teplokarta/processor/enrich"
)

// processorFlags are the processor's own settings (stack addresses come from the shared flags).
type processorFlags struct {
	group, windowsTopic       *string
	windowSizes               *string
	batch, maxInFlight        *int
	carry, maxUnstored        *int
	roundRows                 *int
	roundLinger               *time.Duration
	prefetch                  *int
	flush, lateness           *time.Duration
	pii                       *piiFlags
	debugAddr                 *string
	dedupHorizon, dedupIDTerm *time.Duration
	dedupState                *string
	enrichedParts             *int
	classify                  *classifierFlags
	sourcesConfig             *string
	sessionTimeout            *time.Duration
}

func addProcessorFlags(fs *cli.FlagSet) *processorFlags {
	d := app.DefaultOptions()
	return &processorFlags{
		group:        fs.String("group", d.Pipeline.GroupID, "Kafka consumer group of the processor instances"),
		windowsTopic: fs.String("windows-topic", "", "publish closed live windows to this topic (e.g. appeals.windows; empty: off)"),
		batch:        fs.Int("batch-size", d.Pipeline.BatchSize, "max records a partition processes as one batch (INSERTs gather batches: --round-rows)"),
		flush:        fs.Duration("flush-interval", d.Pipeline.FlushInterval, "max wait to fill a batch"),
		maxInFlight:  fs.Int("max-in-flight", d.Pipeline.MaxInFlight, "records batched or processed at once across all partitions (bounds memory)"),
		carry:        fs.Int("carry-batches", d.Pipeline.CarryBatches, "batches of a partition that may wait for their ClickHouse INSERT while it processes the next (0: wait for each)"),
		maxUnstored:  fs.Int("max-unstored", d.Pipeline.MaxUnstored, "rows handed to the ClickHouse sink and not yet stored, across all partitions (bounds memory)"),
		roundRows:    fs.Int("round-rows", d.Sink.RoundRows, "rows a ClickHouse INSERT waits for while batches are still being processed"),
		roundLinger:  fs.Duration("round-linger", d.Sink.RoundLinger, "max wait of an INSERT for those rows while batches are being processed (0: off, insert what is queued at once)"),
		prefetch:     fs.Int("prefetch", d.Pipeline.Prefetch, "records each partition's reader buffers ahead of the batch"),
		lateness:     fs.Duration("allowed-lateness", d.Window.AllowedLateness, "event-time lateness before a window closes"),
		windowSizes:  fs.String("window-sizes", formatSizes(d.Window.Sizes), "live tumbling windows, comma-separated (each divides a day or is whole days)"),
		pii:          addPIIFlags(fs),
		debugAddr:    addDebugFlag(fs),
		dedupHorizon: fs.Duration("dedup-horizon", d.Dedup.Horizon, "event-time horizon of near-duplicate detection"),
		dedupIDTerm:  fs.Duration("dedup-id-horizon", d.Dedup.IDHorizon, "how long exact source-id claims are kept"),
		dedupState: fs.String("dedup-state", d.DedupState, "where the dedup state lives: redis (shared by any number of instances); "+
			"local (in this process: no Redis round trip per batch, but it consumes only while it holds every partition, and rebuilds the state from ClickHouse when it starts); "+
			"partition (two stages: raw topics → "+model.TopicEnriched+" keyed by municipality → dedup with the partition that owns it; any number of instances)"),
		enrichedParts:  fs.Int("enriched-partitions", d.EnrichedPartitions, "partitions "+model.TopicEnriched+" has at least (--dedup-state partition): the most instances its second stage can use; raising it grows the topic, and running instances take up the added partitions"),
		classify:       addClassifierFlags(fs),
		sessionTimeout: fs.Duration("session-timeout", d.Pipeline.SessionTimeout, "consumer group session timeout: how soon the partitions of a dead instance move"),
		sourcesConfig:  fs.String("sources-config", "", "ingest YAML whose generic sources the processor must parse too (their raw topics are consumed)"),
	}
}

// options turns the flags into app options; rf gives the Redis key prefix and durability.
func (f *processorFlags) options(brokers []string, rf *redisFlags) (app.Options, error) {
	o := app.DefaultOptions()
	o.Pipeline.Brokers, o.Pipeline.GroupID, o.Pipeline.BatchSize, o.Pipeline.FlushInterval = brokers, *f.group, *f.batch, *f.flush
	o.Pipeline.WindowsTopic, o.Pipeline.SessionTimeout = *f.windowsTopic, *f.sessionTimeout
	o.Pipeline.MaxInFlight, o.Pipeline.Prefetch = *f.maxInFlight, *f.prefetch
	o.Pipeline.CarryBatches, o.Pipeline.MaxUnstored = *f.carry, *f.maxUnstored
	o.Sink.RoundRows, o.Sink.RoundLinger = *f.roundRows, *f.roundLinger
	o.Window.AllowedLateness = *f.lateness
	sizes, err := parseSizes(*f.windowSizes)
	if err != nil {
		return o, err
	}
	o.Window.Sizes = sizes
	o.Dedup.KeyPrefix, o.Dedup.Horizon, o.Dedup.IDHorizon = *rf.prefix, *f.dedupHorizon, *f.dedupIDTerm
	o.Dedup.Durability = rf.durability()
	o.DedupState, o.EnrichedPartitions = *f.dedupState, *f.enrichedParts
	if o.PIIKey, err = f.pii.resolve(); err != nil {
		return o, err
	}
	if *f.sourcesConfig != "" {
		icfg, err := ingest.LoadConfig(*f.sourcesConfig)
		if err != nil {
			return o, err
		}
		icfg.PIIKey, icfg.Local = o.PIIKey, *f.pii.local
		if o.Sources, err = icfg.Registry(); err != nil {
			return o, err
		}
		o.Pipeline.Topics = nil
		for _, s := range icfg.SourceNames() {
			o.Pipeline.Topics = append(o.Pipeline.Topics, model.RawTopic(s))
		}
	}
	st, err := f.classify.stage()
	if err != nil {
		return o, err
	}
	o.Enrich = st
	return o, nil
}

// startProcessor assembles a processor over opened clients and serves its /metrics and /healthz.
func startProcessor(ctx context.Context, env *cli.Env, pf *processorFlags, brokers []string, sec kafkax.Security, rf *redisFlags,
	conn driver.Conn, chc chstore.Config, rdb redis.UniversalClient, metricsAddr string) (*app.Processor, error) {
	if err := checkBrokers(ctx, env, brokers, sec); err != nil {
		return nil, err
	}
	reg := obs.NewRegistry()
	opts, err := pf.options(brokers, rf)
	if err != nil {
		return nil, err
	}
	opts.Pipeline.Security = sec
	if n := env.Getenv(envKillAfterStore); n != "" {
		if opts.Pipeline.AfterStore, err = killAfterStore(n); err != nil {
			return nil, err
		}
		env.Log.Warn("test hook: this process kills itself after a stored batch", "batches", n)
	}
	p, err := app.Build(opts, app.Clients{ClickHouse: conn, ClickHouseDial: chc.Dial, ClickHouseAuth: chc.Auth(), Redis: rdb, Registerer: reg, Log: env.Log})
	if err != nil {
		return nil, err
	}
	if err := obs.Serve(ctx, metricsAddr, obs.Handler(reg, healthOf(conn, rdb)), env.Log); err != nil {
		return nil, err
	}
	if _, err := obs.ServeDebug(ctx, *pf.debugAddr, env.Log); err != nil {
		return nil, err
	}
	return p, nil
}

// healthOf reports whether the processor's dependencies answer.
func healthOf(ch driver.Conn, rdb redis.UniversalClient) func(context.Context) error {
	return func(ctx context.Context) error {
		return errors.Join(ch.Ping(ctx), rdb.Ping(ctx).Err())
	}
}

// classifierFlags select the classification model, taxonomy and routing files.
type classifierFlags struct {
	model, taxonomy, routing *string
}

func addClassifierFlags(fs *cli.FlagSet) *classifierFlags {
	return &classifierFlags{
		model:    fs.String("model", "", "classifier model file (empty: the model embedded in the binary)"),
		taxonomy: fs.String("taxonomy", "", "taxonomy YAML with keyword rules (empty: the embedded deploy/taxonomy.yaml)"),
		routing:  fs.String("routing", "", "agency routing YAML (empty: the embedded deploy/routing.yaml)"),
	}
}

// stage builds the enrich stage: the classifier (model + taxonomy rules) and the agency router.
func (f *classifierFlags) stage() (*enrich.Stage, error) {
	return enrich.Load(*f.model, *f.taxonomy, *f.routing)
}

// checkProcessorConfig validates what a processor start would build from its flags (options, model and
// rule files, every stage's config), without connecting.
func checkProcessorConfig(pf *processorFlags, kf *kafkaFlags, rf *redisFlags, ch *chFlags) error {
	o, err := pf.options(kf.addrs(), rf)
	if err != nil {
		return err
	}
	_, secErr := kf.security()
	return errors.Join(o.Validate(), secErr, ch.config().Validate(), rf.config().Validate())
}

// envKillAfterStore is a fault-test hook, not a setting: the processor SIGKILLs itself after its N-th
// stored batch, before that batch's status events are produced (make chaos, processor/app tests).
const envKillAfterStore = "TEPLOKARTA_TEST_KILL_AFTER_STORE"

func killAfterStore(n string) (func(), error) {
	limit, err := strconv.Atoi(n)
	if err != nil || limit < 1 {
		return nil, fmt.Errorf("%s=%q: want a positive number of batches", envKillAfterStore, n)
	}
	var stored atomic.Int64
	return func() {
		if stored.Add(1) >= int64(limit) {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // never returns: the signal ends the process
		}
	}, nil
}
