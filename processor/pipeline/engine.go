// Package pipeline wires the processor's stages to Kafka: a consumer group hands each instance its
// partitions; each partition resumes after the highest offset ClickHouse already holds (whatever Kafka's
// committed offset says), runs batches through normalize → enrich → dedup → windows → sink, and commits
// the Kafka offset only after the sink confirmed. A crash therefore replays, and a replay is harmless.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/semaphore"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/normalize"
	"github.com/teplokarta/teplokarta/processor/sink"
	"github.com/teplokarta/teplokarta/processor/window"
)

// Config of the processor engine.
type Config struct {
	Brokers        []string        // default 127.0.0.1:19092
	Security       kafkax.Security // TLS and SASL of every Kafka connection; zero: plaintext
	GroupID        string          // consumer group; default "teplokarta-processor"
	Topics         []string        // raw topics; default appeals.raw.{vk,nashdom,112,pos}
	BatchSize      int             // max records per batch; default 2500
	FlushInterval  time.Duration   // max wait to fill a batch; default 250ms
	DLQTopic       string          // default appeals.dlq
	StatusTopic    string          // "created" events for the SLA engine; default appeals.status; "" = off
	WindowsTopic   string          // closed live windows; default "" (off)
	SessionTimeout time.Duration   // consumer group session; default 10s
	StopTimeout    time.Duration   // how long an in-flight batch may take to finish at shutdown; default 30s
	// MaxInFlight bounds the records being batched or processed at once across all partitions; with
	// Prefetch and MaxUnstored it bounds the processor's memory whatever the backlog and partition count.
	// Default 5000: two batches, one per core of the machine measured; the sink's rounds no longer hold
	// it (docs/processor-performance.md).
	MaxInFlight int
	Prefetch    int // records each partition's reader buffers ahead of the batch; default 500
	// CarryBatches is how many of a partition's batches may wait for their INSERT while the partition
	// goes on with the next (default 4): the sink's rounds then gather what every partition brought
	// during an INSERT. 0 makes a partition wait for each batch's INSERT before it fetches the next.
	// Rows handed to the sink leave the in-flight budget and hold MaxUnstored instead.
	CarryBatches int
	// MaxUnstored bounds the rows handed to the sink and not yet stored, across all partitions (their
	// appeals stay in memory until then). Default 32768: two rounds of the sink's RoundRows.
	MaxUnstored int
	// AfterStore, when set, runs after the sink stored a batch and before its status events go out: the
	// fault tests kill the process there (the crash that leaves incidents without a created event).
	AfterStore func()
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	c := Config{Brokers: []string{"127.0.0.1:19092"}, GroupID: "teplokarta-processor", BatchSize: 2500,
		FlushInterval: 250 * time.Millisecond, DLQTopic: model.TopicDLQ, StatusTopic: model.TopicStatus,
		SessionTimeout: 10 * time.Second, StopTimeout: 30 * time.Second, MaxInFlight: 5000, Prefetch: 500,
		CarryBatches: 4, MaxUnstored: 32768}
	for _, s := range model.KnownSources {
		c.Topics = append(c.Topics, model.RawTopic(s))
	}
	return c
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("processor: no brokers"))
	}
	if c.GroupID == "" {
		errs = append(errs, errors.New("processor: empty group id"))
	}
	if len(c.Topics) == 0 {
		errs = append(errs, errors.New("processor: no topics"))
	}
	if c.BatchSize < 1 || c.FlushInterval <= 0 {
		errs = append(errs, errors.New("processor: batch size and flush interval must be positive"))
	}
	if c.MaxInFlight < c.BatchSize || c.Prefetch < 1 {
		errs = append(errs, fmt.Errorf("processor: max in-flight (%d) must hold a batch (%d) and prefetch (%d) be positive",
			c.MaxInFlight, c.BatchSize, c.Prefetch))
	}
	if c.CarryBatches < 0 || c.CarryBatches > 0 && c.MaxUnstored < c.BatchSize {
		errs = append(errs, fmt.Errorf("processor: carried batches (%d) must not be negative, and max unstored rows (%d) must hold a batch (%d) when batches are carried",
			c.CarryBatches, c.MaxUnstored, c.BatchSize))
	}
	if c.DLQTopic == "" {
		errs = append(errs, errors.New("processor: a dead-letter topic is required (bad input is never dropped)"))
	}
	return errors.Join(errs...)
}

// Deps are the stages and clients the engine drives.
type Deps struct {
	Normalizer normalize.Normalizer
	Enricher   Enricher // nil: hints only
	Deduper    Deduper
	Windower   *window.Windower
	Sink       sink.Sink
	Producer   *kafkax.Writer // DLQ, status and window records; must use RequireAll
	// Resume, when set, checks (and repairs) the views of the partitions an instance is about to resume,
	// before their progress is read: an INSERT cut short by a crash may have left them behind appeals.
	Resume ResumeChecker
	// Placement, when set, finds records produced under another partition count of their topic: they
	// are forwarded (the same key, bytes and headers, to the same topic) to the partition their key goes
	// to now, and counted as "forwarded", instead of being processed where they were read.
	Placement Placement
	Metrics   *Metrics
	Log       *slog.Logger
}

// Placement tells whether a record read from a partition belongs to another one now: with
// --dedup-state partition, appeals.enriched grew (dedup.Partitioned), and the record's scope is decided
// by the state of the partition it goes to.
type Placement interface {
	Misplaced(key []byte, partition int) bool
}

// leaveWait bounds the wait for the consumer group's leave at shutdown, once every batch is stored.
const leaveWait = 5 * time.Second

// Engine is the running processor.
type Engine struct {
	cfg      Config
	inFlight *semaphore.Weighted // records taken from the readers and not yet handed to the sink
	unstored *semaphore.Weighted // rows handed to the sink and not yet stored (nil: batches are not carried)
	upstream atomic.Int64        // records taken from the readers and not yet handed to the sink
	backlog  atomic.Int64        // records behind each owned partition's last fetched batch, summed
	blocked  atomic.Int64        // the part of backlog behind partitions waiting for a carry slot
	chunks   sync.Pool           // emitCreated's buffers (*[]byte of createdChunk), back once acknowledged
	commits  committer
	Deps
}

// New builds an engine.
func New(cfg Config, d Deps) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Normalizer == nil || d.Deduper == nil || d.Windower == nil || d.Sink == nil || d.Producer == nil {
		return nil, errors.New("processor: normalizer, deduper, windower, sink and producer are required")
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics(nil)
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cfg: cfg, inFlight: semaphore.NewWeighted(int64(cfg.MaxInFlight)), Deps: d}
	if cfg.CarryBatches > 0 {
		e.unstored = semaphore.NewWeighted(int64(cfg.MaxUnstored))
	}
	return e, nil
}

// Run consumes until ctx ends. On shutdown it stops fetching, lets in-flight batches finish and commit,
// flushes the live windows and leaves the group.
func (e *Engine) Run(ctx context.Context) error {
	group, err := newGroup(e.cfg.GroupID, e.cfg.Brokers, e.cfg.Security, e.cfg.Topics, e.cfg.SessionTimeout, e.cfg.StopTimeout, "teplokarta-processor")
	if err != nil {
		return fmt.Errorf("processor: consumer group: %w", err)
	}
	var running sync.WaitGroup // this engine's partition goroutines
	defer func() {
		closed := make(chan struct{})
		go func() { group.Close(); close(closed) }() // ends the generation: the partitions finish their batches
		running.Wait()
		e.publishWindows(context.WithoutCancel(ctx), true)
		// Every batch is stored and committed. Leaving the group is a courtesy that normally takes
		// milliseconds, but kafka-go cannot interrupt a JoinGroup: a member stopped while it waits for a
		// rebalance would wait for the other members to rejoin (up to the rebalance timeout, StopTimeout +
		// SessionTimeout), past a supervisor's grace period. The coordinator drops a member that went
		// silent after its session timeout, as after a crash, and the next owners resume from ClickHouse.
		select {
		case <-closed:
		case <-time.After(leaveWait):
			e.Log.Warn("leaving the consumer group waits for a rebalance; exiting without waiting (the group drops this member after its session timeout)",
				"waited", leaveWait, "session_timeout", e.cfg.SessionTimeout)
		}
	}()
	for {
		gen, err := group.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			e.Log.Warn("consumer group: waiting for the next generation", "err", err)
			continue
		}
		if e.Resume != nil && !e.checkResumed(ctx, gen) {
			continue // the generation ended (or the process is stopping) before the check passed
		}
		n := 0
		for topic, parts := range gen.Assignments {
			for _, p := range parts {
				n++
				running.Add(1)
				gen.Start(func(gctx context.Context) { defer running.Done(); e.consumePartition(ctx, gctx, gen, topic, p) })
			}
		}
		e.Log.Info("generation assigned", "generation", gen.ID, "partitions", n)
	}
}

// newGroup joins a consumer group that starts new partitions at their first offset.
func newGroup(id string, brokers []string, sec kafkax.Security, topics []string, session, stop time.Duration, clientID string) (*kafka.ConsumerGroup, error) {
	return kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID: id, Brokers: brokers, Topics: topics,
		Dialer:            sec.Dialer(clientID),
		StartOffset:       kafka.FirstOffset,
		SessionTimeout:    session,
		HeartbeatInterval: session / 4,
		// A member finishes its in-flight batch before it rejoins: the group must wait for it rather than
		// hand its partitions to another member while it still writes.
		RebalanceTimeout: stop + session,
		// Partitions added to a topic are taken up by a new generation within PartitionWatchInterval
		// (5 s) instead of waiting unread for the next rebalance.
		WatchPartitionChanges: true,
		JoinGroupBackoff:      500 * time.Millisecond,
		Timeout:               5 * time.Second,
	})
}

// ResumeChecker is rollup.Checker's resume check.
type ResumeChecker interface {
	// CheckResumed gets the generation's id (consecutive ids mean no other assignment came between) and
	// its partitions by topic.
	CheckResumed(ctx context.Context, generation int32, partitions map[string][]int, window int64) error
}

// checkResumed runs the resume check for a generation's partitions, retrying until it passes: resuming
// before the views agree with appeals could leave them behind for good. It gives up when the generation
// ends meanwhile (a check that cannot pass in this generation, such as an in-process dedup state's while
// another instance holds partitions, must not keep this member from rejoining) and reports whether the
// partitions may start.
func (e *Engine) checkResumed(ctx context.Context, gen *kafka.Generation) bool {
	parts := map[string][]int{}
	for topic, ps := range gen.Assignments {
		for _, p := range ps {
			parts[topic] = append(parts[topic], p.ID)
		}
	}
	ended := make(chan struct{})
	gen.Start(func(gctx context.Context) { <-gctx.Done(); close(ended) })
	for ctx.Err() == nil {
		// One INSERT holds a partition's carried batches as well as the one before them.
		err := e.Resume.CheckResumed(ctx, gen.ID, parts, int64(e.cfg.BatchSize*(e.cfg.CarryBatches+1)))
		if err == nil {
			return true
		}
		e.Log.Warn("checking the resumed partitions; will retry", "err", err)
		select {
		case <-ctx.Done():
		case <-ended:
			e.Log.Info("the generation ended before its partitions could resume", "generation", gen.ID)
			return false
		case <-time.After(time.Second):
		}
	}
	return false
}

// consumePartition owns one partition for one generation. rootCtx is the process lifetime; gctx ends with
// the generation (rebalance) or the process.
func (e *Engine) consumePartition(rootCtx, gctx context.Context, gen *kafka.Generation, topic string, p kafka.PartitionAssignment) {
	log := e.Log.With("topic", topic, "partition", p.ID)
	var prog sink.Progress
	for {
		var err error
		if prog, err = e.Sink.Progress(gctx, topic, p.ID); err == nil {
			break
		}
		log.Warn("reading progress from ClickHouse", "err", err)
		select {
		case <-gctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	start := p.Offset // committed offset, or FirstOffset (-2) for a new group
	if prog.Offset >= 0 && (start < 0 || prog.Offset+1 > start) {
		if start >= 0 {
			e.Metrics.Resumes.Inc()
		}
		start = prog.Offset + 1
	}
	e.Windower.Restore(topic, p.ID, prog.MaxEventTime)
	// The partition's lag and window state are its owner's: whoever takes it next sets them anew. Its open
	// windows' counts go out before they are dropped (the rows behind them are stored).
	defer func() {
		e.Metrics.Lag.DeleteLabelValues(topic, strconv.Itoa(p.ID))
		e.writeWindows(context.WithoutCancel(rootCtx), e.Windower.Forget(topic, p.ID))
	}()
	log.Info("partition assigned", "committed", p.Offset, "stored_up_to", prog.Offset, "start", start)

	r := newPartitionReader(e.cfg.Brokers, e.cfg.Security, topic, p.ID, e.cfg.Prefetch, "teplokarta-processor")
	defer r.Close()
	if err := r.SetOffset(start); err != nil {
		log.Error("set offset", "err", err)
		return
	}
	// The lag is known from the start, not only after the first batch: a partition resumed with nothing
	// left to read reports 0 rather than nothing, and a round counts the partition's backlog before its
	// first batch (else the first rounds of a replay, and every round of a small one, did not gather).
	var behind int64
	lctx, lcancel := context.WithTimeout(gctx, 5*time.Second)
	if lag, err := r.ReadLag(lctx); err == nil {
		behind = max(lag, 0)
		e.Metrics.Lag.WithLabelValues(topic, strconv.Itoa(p.ID)).Set(float64(behind))
	}
	lcancel()
	e.carry(rootCtx, gctx, gen, topic, p.ID, r, behind, log)
}

// carry runs a partition's batches: each is prepared (normalized, deduplicated, judged against the
// watermark) and handed to the sink on the partition's lane, and a committer finishes them in order once
// stored (status events, offset commit, watermark). Up to CarryBatches of them wait for the sink while
// the next is prepared. It returns when the generation ends or a batch fails, after every batch handed
// to the sink is finished: a partition is released only with nothing of it left in the sink. behind is the
// partition's backlog as read at assignment.
func (e *Engine) carry(rootCtx, gctx context.Context, gen *kafka.Generation, topic string, partition int, r *kafka.Reader, behind int64, log *slog.Logger) {
	pctx, stop := context.WithCancel(gctx) // ends the partition's fetching when a batch fails
	defer stop()
	lane := e.Sink.NewLane()
	slots := make(chan struct{}, e.cfg.CarryBatches+1) // the batch being prepared and those carried
	handed := make(chan *carried, e.cfg.CarryBatches+1)
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		failed := false
		for c := range handed {
			err := c.stored.Wait() // every Pending is waited for, even after a failure
			e.releaseUnstored(c.rows.Len())
			e.release(c.budget)
			if !failed && err == nil {
				err = e.finishBatch(c, gen, topic, partition)
			}
			c.cancel()
			<-slots
			if err != nil && !failed {
				failed = true
				log.Error("batch failed; the partition will be re-read from the last stored offset", "err", err)
				stop()
			}
		}
	}()
	defer func() { close(handed); <-committed }()
	var pending time.Time // the watermark once every handed batch is stored
	e.backlog.Add(behind) // this partition's share of the backlog, updated after every batch
	defer func() { e.backlog.Add(-behind) }()
	for {
		select {
		case slots <- struct{}{}:
		default:
			// Every slot is taken by batches waiting for the sink: until one is stored this partition
			// brings nothing, however far behind it is, so a round must not wait for its backlog (with
			// the backlog on few partitions, as appeals.enriched's busiest municipality, every round
			// waited its whole linger).
			e.blocked.Add(behind)
			select {
			case slots <- struct{}{}:
				e.blocked.Add(-behind)
			case <-pctx.Done():
				e.blocked.Add(-behind)
				return
			}
		}
		msgs := e.fetchBatch(pctx, r)
		if pctx.Err() != nil {
			e.drop(len(msgs))
			<-slots
			return // not processed, not committed: the next owner reads them again
		}
		if len(msgs) == 0 {
			<-slots
			continue
		}
		lag := lagAfter(msgs[len(msgs)-1])
		e.backlog.Add(lag - behind)
		behind = lag
		// Finish the batch even if the generation or the process ends meanwhile: an insert cut midway
		// would leave the next owner guessing. StopTimeout bounds it.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(rootCtx), e.cfg.StopTimeout)
		c, err := e.prepareBatch(bctx, topic, partition, msgs, pending)
		if err != nil {
			cancel()
			<-slots
			log.Error("batch failed; the partition will be re-read from the last stored offset", "err", err)
			return // ends the generation; the group rejoins and resumes from ClickHouse
		}
		c.ctx, c.cancel = bctx, cancel
		pending = c.watermark
		c.stored = lane.Submit(bctx, c.rows)
		handed <- c
	}
}

// fetchBatch takes a batch within the in-flight budget (fetchWithin). It returns holding len(msgs) of
// the budget; the caller releases it, and they count upstream until processBatch hands them to the sink:
// the reservation counts upstream while the batch is filled.
func (e *Engine) fetchBatch(ctx context.Context, r *kafka.Reader) []kafka.Message {
	return fetchWithin(ctx, r, nil, e.cfg.BatchSize, e.cfg.FlushInterval, e.reserve, e.drop)
}

// reserve takes n records of the in-flight budget and counts them upstream.
func (e *Engine) reserve(ctx context.Context, n int) error {
	if err := e.acquire(ctx, n); err != nil {
		return err
	}
	e.upstream.Add(int64(n))
	return nil
}

// Upstream is how many records have been taken from the readers (or reserved for a batch being filled)
// and not yet handed to the sink: the sink's round waits for them (sink.Config.Upstream).
func (e *Engine) Upstream() int { return int(e.upstream.Load()) }

// Backlog is how many records wait in Kafka behind the batches fetched last, over the owned partitions
// that can fetch more now (not those whose every carried batch waits for the sink), as of those fetches:
// the sink's rounds wait for batches only while such a backlog is replayed (sink.Config.Backlog).
func (e *Engine) Backlog() int { return int(e.backlog.Load() - e.blocked.Load()) }

// acquire takes n records of the in-flight budget, waiting while other partitions hold it.
func (e *Engine) acquire(ctx context.Context, n int) error {
	if err := e.inFlight.Acquire(ctx, int64(n)); err != nil {
		return err
	}
	e.Metrics.InFlight.Add(float64(n))
	return nil
}

func (e *Engine) release(n int) {
	e.inFlight.Release(int64(n))
	e.Metrics.InFlight.Sub(float64(n))
}

// drop gives back n records taken from a reader that will not reach the sink (the partition's next owner
// or its next generation reads them again): they leave the upstream count and the in-flight budget.
func (e *Engine) drop(n int) {
	e.upstream.Add(-int64(n))
	e.release(n)
}

// acquireUnstored takes n rows of the sink's budget, waiting while carried batches hold it.
func (e *Engine) acquireUnstored(ctx context.Context, n int) error {
	if e.unstored == nil || n == 0 {
		return nil
	}
	// n ≤ BatchSize ≤ MaxUnstored (Validate), so a batch never waits for more than the whole budget.
	if err := e.unstored.Acquire(ctx, int64(n)); err != nil {
		return err
	}
	e.Metrics.Unstored.Add(float64(n))
	return nil
}

func (e *Engine) releaseUnstored(n int) {
	if e.unstored == nil || n == 0 {
		return
	}
	e.unstored.Release(int64(n))
	e.Metrics.Unstored.Sub(float64(n))
}

// NewProducer builds the writer the engine uses for DLQ/status/window records.
func NewProducer(brokers []string, sec kafkax.Security) (*kafkax.Writer, error) {
	c := kafkax.DefaultProducerConfig()
	c.Brokers, c.Security = brokers, sec
	return kafkax.NewWriter(c)
}
