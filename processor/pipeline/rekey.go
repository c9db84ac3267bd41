package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"golang.org/x/sync/semaphore"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/normalize"
)

// RekeyConfig configures the first of the processor's two stages when the dedup state lives with the
// partitions that own it (issue 15, item 2): raw topics → parse, normalize, mask, classify, resolve →
// appeals.enriched keyed by scope ("<region>:<oktmo>"), where the second stage (the Engine over that topic)
// deduplicates, counts and stores. Kafka Streams calls this a repartition.
type RekeyConfig struct {
	Brokers       []string        // default 127.0.0.1:19092
	Security      kafkax.Security // TLS and SASL of every Kafka connection; zero: plaintext
	GroupID       string          // consumer group of the raw topics; default "teplokarta-processor-rekey"
	Topics        []string        // raw topics; default appeals.raw.{vk,nashdom,112,pos}
	Enriched      string          // default appeals.enriched
	DLQTopic      string          // default appeals.dlq
	BatchSize     int             // records per produced batch; default 2500
	FlushInterval time.Duration   // max wait of a batch for more records after its first; default 50ms
	// MaxInFlight bounds the records read and not yet produced across all raw partitions, and Prefetch
	// what each partition's reader buffers ahead (defaults 5000 and 500, the Engine's). Without them 16
	// raw partitions held up to 16 batches at once: ≈ 100 MB more live heap than the Engine's bounds, and
	// the garbage collector ran at the memory limit (docs/processor-performance.md, session 16).
	MaxInFlight    int
	Prefetch       int
	SessionTimeout time.Duration // consumer group session; default 10s
	StopTimeout    time.Duration // how long an in-flight batch may take to finish at shutdown; default 30s
}

// rekeyFlushInterval is shorter than the Engine's 250 ms: the second stage waits for its own batch
// again, and two full waits made a new appeal 0.13 s later to appear (bench-peer's freshness). A replayed
// backlog fills batches at once either way.
const rekeyFlushInterval = 50 * time.Millisecond

// DefaultRekeyConfig returns the documented defaults.
func DefaultRekeyConfig() RekeyConfig {
	d := DefaultConfig()
	return RekeyConfig{Brokers: d.Brokers, GroupID: d.GroupID + "-rekey", Topics: d.Topics, Enriched: model.TopicEnriched,
		DLQTopic: d.DLQTopic, BatchSize: d.BatchSize, FlushInterval: rekeyFlushInterval, SessionTimeout: d.SessionTimeout,
		StopTimeout: d.StopTimeout, MaxInFlight: d.MaxInFlight, Prefetch: d.Prefetch}
}

// Validate checks the configuration.
func (c RekeyConfig) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("rekey: no brokers"))
	}
	if c.GroupID == "" || len(c.Topics) == 0 || c.Enriched == "" || c.DLQTopic == "" {
		errs = append(errs, errors.New("rekey: group, raw topics, enriched topic and dead-letter topic are required"))
	}
	for _, t := range c.Topics {
		if t == c.Enriched {
			errs = append(errs, fmt.Errorf("rekey: %s is both a raw topic and the enriched one", t))
		}
	}
	if c.BatchSize < 1 || c.FlushInterval <= 0 || c.SessionTimeout < time.Second || c.StopTimeout <= 0 {
		errs = append(errs, errors.New("rekey: batch size, flush interval, session and stop timeouts must be positive (session ≥ 1s)"))
	}
	if c.MaxInFlight < c.BatchSize || c.Prefetch < 1 {
		errs = append(errs, fmt.Errorf("rekey: max in flight (%d) must hold a batch (%d) and prefetch (%d) be positive",
			c.MaxInFlight, c.BatchSize, c.Prefetch))
	}
	return errors.Join(errs...)
}

// Rekey is the first stage. It is at-least-once: a batch's raw offsets are committed after its enriched
// records (and dead letters) are acknowledged, so a crash produces some of them again. The second stage
// drops those repeats as exact duplicates: the same appeal id from another offset of its partition.
type Rekey struct {
	cfg      RekeyConfig
	norm     normalize.Normalizer
	enricher Enricher
	w        *kafkax.Writer
	m        *Metrics
	log      *slog.Logger
	stored   StoredProgress
	router   Router              // nil: every appeal to its own scope
	inFlight *semaphore.Weighted // records read from the raw partitions and not yet produced
	commits  committer
	bufs     sync.Pool // *rekeyBufs of batches the writer has written
}

// rekeyBufs is what one rekeyed batch is laid out in: its records, the enriched ones' ids and scopes, and
// one slab holding every enriched key and value back to back. A batch's buffers are used again only once
// the writer acknowledged all of its records (it holds none after a WriteMessages that returned nil);
// after a failed write they are left to the collector, since the writer may still send them. The
// per-record copies of keys and values were ≈ a tenth of the processor's allocated bytes
// (docs/processor-performance.md, session 22).
type rekeyBufs struct {
	out    []kafka.Message
	routed []routed
	slab   []byte
}

// release drops what the buffers refer to outside themselves (dead letters' raw records, ids) and keeps
// their arrays for the next batch.
func (b *rekeyBufs) release() {
	clear(b.out)
	clear(b.routed)
	b.out, b.routed, b.slab = b.out[:0], b.routed[:0], b.slab[:0]
}

// StoredProgress reads the highest offset of a raw partition stored straight from it (-1: none), as the
// sink's Progress does.
type StoredProgress func(ctx context.Context, topic string, partition int) (int64, error)

// Router gives each appeal the scope it is re-keyed by: its own, or the scope a copy with the same id was
// first re-keyed by (dedup.Routes). Without one every appeal goes to its own scope's partition, and a
// retry that resolves to another municipality than its original is not recognised there.
type Router interface {
	// Ensure makes the routes whole (rebuilt when lost) before a generation's partitions start.
	Ensure(ctx context.Context) error
	// Route fails when the routes were lost meanwhile: the batch ends the generation, and the next one
	// runs Ensure first.
	Route(ctx context.Context, ids, scopes []string) ([]string, error)
}

// RouteWith sets the Router (before Run).
func (r *Rekey) RouteWith(rt Router) { r.router = rt }

// ResumeAfterStored makes a partition the group never committed start after what ClickHouse already
// holds straight from it: a database filled with --dedup-state redis or local before, whose records
// re-keyed again would all become exact duplicates in the second stage (exact, but a whole replay).
func (r *Rekey) ResumeAfterStored(p StoredProgress) { r.stored = p }

// NewRekey returns the first stage; m may be shared with the Engine (dead letters and lag by topic).
func NewRekey(cfg RekeyConfig, norm normalize.Normalizer, enricher Enricher, w *kafkax.Writer, m *Metrics, log *slog.Logger) (*Rekey, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if norm == nil || w == nil || m == nil {
		return nil, errors.New("rekey: normalizer, writer and metrics are required")
	}
	if log == nil {
		log = slog.Default()
	}
	return &Rekey{cfg: cfg, norm: norm, enricher: enricher, w: w, m: m, log: log.With("stage", "rekey"),
		inFlight: semaphore.NewWeighted(int64(cfg.MaxInFlight)), bufs: sync.Pool{New: func() any { return &rekeyBufs{} }}}, nil
}

// Run consumes the raw topics in the consumer group until ctx ends.
func (r *Rekey) Run(ctx context.Context) error {
	group, err := newGroup(r.cfg.GroupID, r.cfg.Brokers, r.cfg.Security, r.cfg.Topics, r.cfg.SessionTimeout, r.cfg.StopTimeout, "teplokarta-rekey")
	if err != nil {
		return fmt.Errorf("rekey: consumer group: %w", err)
	}
	var running sync.WaitGroup
	defer func() {
		closed := make(chan struct{})
		go func() { group.Close(); close(closed) }()
		running.Wait()
		select { // as the Engine: a member stopped during a rebalance does not wait for it
		case <-closed:
		case <-time.After(leaveWait):
		}
	}()
	for {
		gen, err := group.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.log.Warn("consumer group: waiting for the next generation", "err", err)
			continue
		}
		if !r.ensureRoutes(ctx) {
			return nil
		}
		for topic, parts := range gen.Assignments {
			for _, p := range parts {
				running.Add(1)
				gen.Start(func(gctx context.Context) { defer running.Done(); r.partition(ctx, gctx, gen, topic, p) })
			}
		}
	}
}

// ensureRoutes runs the Router's Ensure until it succeeds, once per generation and not per partition, and
// outside any batch's deadline: a rebuild reads every appeal of the id horizon. It reports false when ctx
// ended first.
func (r *Rekey) ensureRoutes(ctx context.Context) bool {
	if r.router == nil {
		return true
	}
	for {
		err := r.router.Ensure(ctx)
		if err == nil {
			return true
		}
		r.log.Warn("making the routes whole; partitions wait", "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Second):
		}
	}
}

// partition re-keys one raw partition for one generation.
func (r *Rekey) partition(rootCtx, gctx context.Context, gen *kafka.Generation, topic string, p kafka.PartitionAssignment) {
	log := r.log.With("topic", topic, "partition", p.ID)
	label := strconv.Itoa(p.ID)
	defer r.m.Lag.DeleteLabelValues(topic, label)
	rd := newPartitionReader(r.cfg.Brokers, r.cfg.Security, topic, p.ID, r.cfg.Prefetch, "teplokarta-rekey")
	defer rd.Close()
	start := p.Offset // the committed offset, or FirstOffset for a new group
	if start < 0 && r.stored != nil {
		for {
			off, err := r.stored(gctx, topic, p.ID)
			if err == nil {
				if off >= 0 {
					start = off + 1
				}
				break
			}
			log.Warn("reading what ClickHouse holds of the raw partition", "err", err)
			select {
			case <-gctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
	if err := rd.SetOffset(start); err != nil {
		log.Error("set offset", "err", err)
		return
	}
	log.Info("partition assigned", "committed", p.Offset, "start", start)
	for gctx.Err() == nil {
		// A batch of its own each time, as the engine's partitions take: a reused array kept the last
		// batch's records reachable while the partition waited for budget, ≈ 1.5 KB each for up to a
		// batch per raw partition (with 64 of them the collector ran without pause under the soft limit).
		batch := r.fetchBatch(gctx, rd, nil)
		if len(batch) == 0 {
			continue
		}
		if !r.produce(rootCtx, gen, topic, p.ID, label, batch, log) {
			return
		}
	}
}

// fetchBatch takes a batch within the in-flight budget (fetchWithin); it returns holding len(batch) of it.
func (r *Rekey) fetchBatch(ctx context.Context, rd *kafka.Reader, batch []kafka.Message) []kafka.Message {
	return fetchWithin(ctx, rd, batch, r.cfg.BatchSize, r.cfg.FlushInterval,
		func(ctx context.Context, n int) error { return r.inFlight.Acquire(ctx, int64(n)) },
		func(n int) { r.inFlight.Release(int64(n)) })
}

// produce re-keys a batch, produces it and commits its raw offsets, giving back its share of the
// in-flight budget; false ends the partition's generation.
func (r *Rekey) produce(rootCtx context.Context, gen *kafka.Generation, topic string, partition int, label string, batch []kafka.Message, log *slog.Logger) bool {
	defer r.inFlight.Release(int64(len(batch)))
	// Finish the batch even if the generation ends meanwhile: what was produced is then committed,
	// and the next owner repeats less.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(rootCtx), r.cfg.StopTimeout)
	defer cancel()
	bufs := r.bufs.Get().(*rekeyBufs)
	out, routed := r.rekey(batch, bufs)
	if err := r.route(bctx, out, routed); err != nil {
		log.Error("routing enriched appeals; the batch will be read again", "err", err)
		return false
	}
	if err := r.w.WriteMessages(bctx, out...); err != nil {
		log.Error("producing enriched appeals; the batch will be read again", "err", err)
		return false // ends the generation: the group rejoins and resumes from the committed offset
	}
	bufs.release()
	r.bufs.Put(bufs)
	last := batch[len(batch)-1]
	if err := r.commits.commit(gen, topic, partition, last.Offset+1); err != nil {
		log.Warn("commit offsets; the batch will be re-keyed again by the next owner", "err", err)
		return false
	}
	r.m.Lag.WithLabelValues(topic, label).Set(float64(lagAfter(last)))
	return true
}

// maxEnrichedBytes keeps an enriched record within one produce batch with room for key and headers.
const maxEnrichedBytes = kafkax.DefaultBatchBytes - 4096

// routed is an enriched record of a rekeyed batch: its index in the batch's messages, its appeal's id and
// scope.
type routed struct {
	at        int
	id, scope string
}

// route re-keys the records whose id was first re-keyed by another scope to that scope.
func (r *Rekey) route(ctx context.Context, out []kafka.Message, recs []routed) error {
	if r.router == nil || len(recs) == 0 {
		return nil
	}
	ids, scopes := make([]string, len(recs)), make([]string, len(recs))
	for i, rt := range recs {
		ids[i], scopes[i] = rt.id, rt.scope
	}
	to, err := r.router.Route(ctx, ids, scopes)
	if err != nil {
		return err
	}
	for i, rt := range recs {
		if to[i] != scopes[i] {
			out[rt.at].Key = []byte(to[i])
			r.m.Rerouted.Inc()
		}
	}
	return nil
}

// rekey turns raw records into enriched ones keyed by scope, and the ones that cannot be parsed (or grew
// past a record's limit) into dead letters; routed lists the enriched ones. Both, and the enriched keys and
// values, are laid out in bufs.
func (r *Rekey) rekey(batch []kafka.Message, bufs *rekeyBufs) (out []kafka.Message, enriched []routed) {
	out, enriched, slab := bufs.out[:0], bufs.routed[:0], bufs.slab[:0]
	for _, m := range batch {
		a, err := r.norm.Normalize(m)
		start, scope := len(slab), ""

		if err == nil {
			if r.enricher != nil {
				r.enricher.Enrich(a)
			}
			if a.OKTMO == "" {
				a.Municipality = model.Unresolved
			}
			a.Origin = model.Offset{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}
			scope = model.Scope(a.Region, a.OKTMO)
			slab = append(slab, scope...)
			slab = model.AppendEnriched(slab, a)
			if n := len(slab) - start; n > maxEnrichedBytes {
				err = fmt.Errorf("rekey: the enriched record of %s has %d bytes, above %d", a.ID, n, maxEnrichedBytes)
			}
		}
		if err != nil {
			slab = slab[:start]
			r.m.Messages.WithLabelValues(model.SourceOfTopic(m.Topic), "dead_letter").Inc()
			out = append(out, DeadLetter(r.cfg.DLQTopic, m, err))
			continue
		}
		// A slab that grew moved: the records before keep the old array, which is theirs alone.
		keyEnd := start + len(scope)
		key, value := slab[start:keyEnd:keyEnd], slab[keyEnd:len(slab):len(slab)]
		enriched = append(enriched, routed{at: len(out), id: a.ID, scope: scope})
		out = append(out, kafka.Message{Topic: r.cfg.Enriched, Key: key, Value: value})
	}
	bufs.out, bufs.routed, bufs.slab = out, enriched, slab
	return out, enriched
}
