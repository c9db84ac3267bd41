// Package sink writes appeals to ClickHouse and reads back the progress record that makes the pipeline's
// effect exact: every row carries the Kafka topic/partition/offset it came from, each INSERT holds one
// month of consecutive records of each partition in it (one part, so it lands whole or not at all), and a
// partition resumes after the highest offset already stored.
package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/model"
)

// Progress of one topic-partition as recorded in ClickHouse.
type Progress struct {
	Offset       int64     // highest offset stored; -1 when nothing is
	MaxEventTime time.Time // latest event time stored (restores the watermark)
}

// Sink is the stage interface.
type Sink interface {
	Progress(ctx context.Context, topic string, partition int) (Progress, error)
	// Write stores consecutive appeals of one topic-partition, in Kafka order. It returns only when every
	// row is stored, or with an error once ctx ends.
	Write(ctx context.Context, batch []*model.Appeal) error
	// NewLane starts a partition's ordered stream of batches that need not wait for each other.
	NewLane() Lane
}

// Config of the ClickHouse sink.
type Config struct {
	RetryBackoff time.Duration // first pause after a failed insert, doubling to 30 s; default 200ms
	// Gate, when set, is entered for every INSERT round, so a rollup repair never runs while rows go in.
	Gate Gate
	// Settle, when set, is called after an INSERT that failed but whose appeals rows ClickHouse stored
	// anyway: its views (rollups, progress) may have missed them, and Settle makes them agree before the
	// partition moves on. The gate is not held during the call.
	Settle func(ctx context.Context, rows []*model.Appeal) error
	// BlockRows bounds the rows encoded at once: an INSERT of more rows is sent as several blocks, which
	// ClickHouse squashes into one part (min_insert_block_size_rows), so a big INSERT costs the server
	// one part per table while this process holds one block's bytes. Default 4096.
	BlockRows int
	// RoundRows and RoundLinger grow the INSERTs under load. A round's leader waits, up to RoundLinger,
	// for rows on their way (Backlog, or else Upstream), until RoundRows rows are queued: ClickHouse's
	// cost per row falls steeply with the rows per INSERT (docs/processor-performance.md), and with
	// partitions finishing their batches one after the other, rounds otherwise start with whatever one of
	// them brought. Partitions whose batches wait go on with their next ones (Lane), so the wait costs
	// ClickHouse's rows and not the processor's time. Live traffic (less than a round behind, or nothing
	// upstream) never waits, so a lone message is not delayed. Zero values take DefaultRoundRows; a
	// RoundLinger ≤ 0 turns the wait off (app.DefaultOptions sets DefaultRoundLinger).
	RoundRows   int
	RoundLinger time.Duration
	// Upstream reports the records the caller has taken from Kafka and not yet handed to Write (nil, and
	// no Backlog: never wait). The pipeline engine's Upstream.
	Upstream func() int
	// Backlog, when set, reports the records still waiting in Kafka behind what was fetched (the pipeline
	// engine's Backlog), and decides instead of Upstream: a round waits only while at least RoundRows of
	// them wait. A backlog being replayed fills rounds, while live traffic, which keeps a few records
	// upstream nearly all the time, is not held back by the linger.
	Backlog func() int
	// Auth is who the exact reads connect as on every replica of a cluster (chstore.Topology.Remote):
	// the connection's own user and password (chstore.Config.Auth). The zero value is user default
	// without a password. Nothing reads it on a single server.
	Auth chstore.Auth
}

// Config defaults.
const (
	DefaultBlockRows   = 4096
	DefaultRoundRows   = 16384
	DefaultRoundLinger = 2 * time.Second
)

// Validate checks the configuration (zero fields take their defaults).
func (c Config) Validate() error {
	if c.BlockRows < 0 || c.RoundRows < 0 || c.RetryBackoff < 0 {
		return fmt.Errorf("sink: block rows (%d), round rows (%d) and retry backoff (%s) must not be negative",
			c.BlockRows, c.RoundRows, c.RetryBackoff)
	}
	if c.RoundLinger > time.Minute {
		return fmt.Errorf("sink: round linger %s: more than a minute would hold every batch past its stop timeout", c.RoundLinger)
	}
	return nil
}

// Gate keeps INSERTs and rollup repairs apart (rollup.Gate).
type Gate interface {
	Enter(ctx context.Context) (release func(), err error)
}

// ClickHouse is the Sink over a clickhouse-go connection.
type ClickHouse struct {
	conn driver.Conn
	cfg  Config
	log  *slog.Logger

	m    *metrics
	topo chstore.TopologyOnce

	mu    sync.Mutex
	queue []*request // waiting for a round
	busy  bool       // a round is being written

	cols sync.Pool // *columns kept from one INSERT's blocks for the next
}

// New builds the sink.
func New(conn driver.Conn, cfg Config, log *slog.Logger) *ClickHouse {
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = 200 * time.Millisecond
	}
	if cfg.BlockRows <= 0 {
		cfg.BlockRows = DefaultBlockRows
	}
	if cfg.RoundRows <= 0 {
		cfg.RoundRows = DefaultRoundRows
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ClickHouse{conn: conn, cfg: cfg, log: log, m: newMetrics(), topo: chstore.TopologyOnce{Auth: cfg.Auth}}
}

// Progress implements Sink.
func (s *ClickHouse) Progress(ctx context.Context, topic string, partition int) (Progress, error) {
	var n uint64
	var off int64
	var maxT time.Time
	from, err := s.source(ctx, "appeal_progress")
	if err != nil {
		return Progress{}, err
	}
	err = s.conn.QueryRow(ctx, `SELECT count(), max(max_offset), max(max_event_time) FROM `+from+`
		WHERE kafka_topic = ? AND kafka_partition = ?`, topic, int32(partition)).Scan(&n, &off, &maxT)
	if err != nil {
		return Progress{}, fmt.Errorf("sink: progress of %s/%d: %w", topic, partition, err)
	}
	if n == 0 {
		return Progress{Offset: -1}, nil
	}
	return Progress{Offset: off, MaxEventTime: maxT.UTC()}, nil
}

const insertAppeals = `INSERT INTO appeals (appeal_id, source, source_id, region, oktmo, municipality,
	category, category_conf, theme, theme_conf, agency, agency_conf, text, address, lat, lon, url, attachments,
	author_hash, fingerprint, event_time, received_time, processed_time, status, incident_id, is_incident,
	is_late, kafka_topic, kafka_partition, kafka_offset, version, sla_deadline, tz_offset)`

// Write implements Sink: a batch on a lane of its own, waited for. Concurrent Writes (one per partition)
// and lanes' batches are merged: while one round is written, the next gathers everything queued
// meanwhile. ClickHouse pays per INSERT (a part in appeals and in every rollup, then merges), so sixteen
// partitions' batches in one INSERT cost a fraction of sixteen INSERTs.
//
// Write returns only after the round holding its rows has finished, whatever ctx says: a caller that
// gave up early could see the next owner of its partition store the same rows again.
func (s *ClickHouse) Write(ctx context.Context, batch []*model.Appeal) error {
	return s.NewLane().Submit(ctx, NewBlock(batch)).Wait()
}

type request struct {
	ctx   context.Context
	block *Block
	lane  *lane
	done  chan error // the outcome for this request's rows
}

// group is one partition's share of a round: its queued batches, in submission order, as one run of
// rows, so a month split can never put a later batch's rows before an earlier one's.
type group struct {
	reqs []*request
	rows run
}

// leadRounds writes rounds until the queue is empty: one at a time, so a partition's batches land in the
// order they were queued.
func (s *ClickHouse) leadRounds() {
	for s.leadRound() {
	}
}

// leadRound writes everything queued (each partition's batches in queue order), answers those callers
// and refuses the queued batches of a lane that lost one. It reports whether more are queued, or else
// marks the sink idle.
func (s *ClickHouse) leadRound() bool {
	s.gather()
	s.mu.Lock()
	var groups []*group
	of := map[model.Offset]*group{}
	for _, r := range s.queue {
		k := model.Offset{Topic: r.block.topic, Partition: r.block.partition}
		g := of[k]
		if g == nil {
			g = &group{}
			of[k] = g
			groups = append(groups, g)
		}
		g.reqs = append(g.reqs, r)
	}
	s.queue = nil
	s.mu.Unlock()
	for _, g := range groups {
		s.m.carried.Add(float64(len(g.reqs) - 1))
		for _, r := range g.reqs {
			g.rows = append(g.rows, span{r.block, 0, r.block.n})
		}
	}

	errs := s.writeRound(groups)

	s.mu.Lock()
	defer s.mu.Unlock()
	for i, g := range groups {
		for _, r := range g.reqs {
			if errs[i] != nil && r.lane.failed == nil {
				r.lane.failed = errs[i]
			}
			r.done <- errs[i]
		}
	}
	s.refuseFailedLocked()
	if len(s.queue) == 0 {
		s.busy = false
		return false
	}
	return true
}

// gather holds a round back while more rows are on their way: until RoundRows rows are queued, no more
// are coming (coming, below), or RoundLinger has passed. A partition's later batches may join its earlier ones
// meanwhile; they land after them all the same (leadRound), so waiting changes only how many rows share
// an INSERT.
func (s *ClickHouse) gather() {
	if s.cfg.Upstream == nil && s.cfg.Backlog == nil || s.cfg.RoundLinger <= 0 {
		return
	}
	// More rows are coming while a backlog at least a round's size waits in Kafka, even at a moment when
	// every fetched record is already queued; without a Backlog, while records are upstream.
	coming := func() bool {
		if s.cfg.Backlog != nil {
			return s.cfg.Backlog() >= s.cfg.RoundRows
		}
		return s.cfg.Upstream() > 0
	}
	began := time.Now()
	deadline := began.Add(s.cfg.RoundLinger)
	for {
		s.mu.Lock()
		queued := 0
		for _, r := range s.queue {
			queued += r.block.n
		}
		s.mu.Unlock()
		if queued >= s.cfg.RoundRows || !coming() || !time.Now().Before(deadline) {
			break
		}
		time.Sleep(gatherPoll)
	}
	s.m.gather.Observe(time.Since(began).Seconds())
}

// gatherPoll is how often a gathering leader looks again: batches arrive every few milliseconds under
// load, and a round costs tens to hundreds of milliseconds.
const gatherPoll = 2 * time.Millisecond

// roundContext ends when every caller's context has ended: one caller's deadline must not fail rows
// the others are still waiting for.
func roundContext(round []*request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(round[0].ctx))
	var left sync.WaitGroup
	left.Add(len(round))
	stops := make([]func() bool, len(round))
	for i, r := range round {
		stops[i] = context.AfterFunc(r.ctx, left.Done)
	}
	go func() { left.Wait(); cancel() }()
	return ctx, func() {
		for _, stop := range stops {
			if stop() {
				left.Done() // so the goroutine above ends with the round
			}
		}
		cancel()
	}
}

// writeRound stores the batches of one round and returns one outcome per group. It first drops the
// rows ClickHouse already holds (a writer that lost its partition in a rebalance while finishing a
// batch must not store what the new owner already stored), then inserts month by month: each INSERT
// holds one month, so it is one part and lands whole or not at all, and every partition's rows go in in
// Kafka order.
func (s *ClickHouse) writeRound(round []*group) []error {
	errs := make([]error, len(round))
	var reqs []*request
	for _, g := range round {
		reqs = append(reqs, g.reqs...)
	}
	ctx, cancel := roundContext(reqs)
	defer cancel()
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	release := func() {}
	if s.cfg.Gate != nil {
		var err error
		if release, err = s.cfg.Gate.Enter(ctx); err != nil {
			return fail(fmt.Errorf("sink: %w", err))
		}
	}
	released := false
	defer func() {
		if !released {
			release()
		}
	}()
	stored, err := s.allProgress(ctx)
	if err != nil {
		return fail(err)
	}
	runs := make([][]run, len(round))
	for i, g := range round {
		first := g.rows[0]
		topic, partition := first.b.topic, first.b.partition
		rows := g.rows
		if done, ok := stored[model.Offset{Topic: topic, Partition: partition}]; ok && done >= first.b.offset[first.lo] {
			rows = rows.keep(func(b *Block, i int) bool { return b.offset[i] > done })
			skipped := g.rows.len() - rows.len()
			s.log.Warn("rows already stored by another writer skipped", "topic", topic, "partition", partition,
				"skipped", skipped, "stored_up_to", done)
			s.m.skipped.Add(float64(skipped))
		}
		runs[i] = rows.byMonth()
	}
	var uncertain run // stored in appeals by a failed INSERT: its views may lack them
	var uncertainOf []int
	for {
		// The month of the oldest request's next run; every request whose next run is in it joins.
		m := int32(-1)
		for i := range runs {
			if len(runs[i]) > 0 {
				m = runs[i][0].firstMonth()
				break
			}
		}
		if m < 0 {
			break
		}
		var rows run
		var members []int
		for i := range runs {
			if errs[i] == nil && len(runs[i]) > 0 && runs[i][0].firstMonth() == m {
				rows = append(rows, runs[i][0]...)
				members = append(members, i)
				runs[i] = runs[i][1:]
			}
		}
		began := time.Now()
		landed, err := s.writeRun(ctx, rows)
		if n := rows.len(); n > 0 {
			s.m.rows.Observe(float64(n))
			s.m.partitions.Observe(float64(len(members)))
			s.m.seconds.Observe(time.Since(began).Seconds())
		}
		if err != nil {
			for _, i := range members {
				errs[i], runs[i] = err, nil // its later runs must not land without this one
			}
		}
		if landed {
			uncertain = append(uncertain, rows...)
			uncertainOf = append(uncertainOf, members...)
		}
	}
	release()
	released = true
	if n := uncertain.len(); n > 0 && s.cfg.Settle != nil {
		s.m.settled.Add(float64(n))
		if err := s.cfg.Settle(ctx, uncertain.appeals()); err != nil {
			// The rows are in appeals: the partition must not move on until the views agree. Its next owner
			// (or this instance after rejoining) checks the partition before it resumes.
			err = fmt.Errorf("sink: settle the views of %d rows a failed INSERT stored: %w", n, err)
			for _, i := range uncertainOf {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		}
	}
	return errs
}

// allProgress reads the highest stored offset of every partition (the table holds a few rows per
// partition).
func (s *ClickHouse) allProgress(ctx context.Context) (map[model.Offset]int64, error) {
	from, err := s.source(ctx, "appeal_progress")
	if err != nil {
		return nil, err
	}
	rows, err := s.conn.Query(ctx, `SELECT kafka_topic, kafka_partition, max(max_offset) FROM `+from+`
		GROUP BY kafka_topic, kafka_partition`)
	if err != nil {
		return nil, fmt.Errorf("sink: progress: %w", err)
	}
	defer rows.Close()
	out := map[model.Offset]int64{}
	for rows.Next() {
		var topic string
		var part int32
		var off int64
		if err := rows.Scan(&topic, &part, &off); err != nil {
			return nil, fmt.Errorf("sink: progress: %w", err)
		}
		out[model.Offset{Topic: topic, Partition: int(part)}] = off
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sink: progress: %w", err)
	}
	return out, nil
}

// writeRun inserts one month's rows (of one or more partitions), retrying until they are stored. After a
// failure it first waits until ClickHouse no longer runs that INSERT, then asks appeals which of the rows
// it holds (the acknowledgement may be what was lost, or the INSERT may have died after the appeals part
// and before every view): it inserts only the rows missing, so no row is stored twice, and reports
// landed when any row of the run went in through a failed INSERT — whose views are then uncertain.
func (s *ClickHouse) writeRun(ctx context.Context, rows run) (landed bool, err error) {
	if rows.len() == 0 {
		return false, nil
	}
	last := rows.last()
	backoff := s.cfg.RetryBackoff
	for attempt := 1; ; attempt++ {
		queryID := fmt.Sprintf("teplokarta-sink-%d-%d", time.Now().UnixNano(), attempt)
		ictx, err := s.insertContext(ctx, clickhouse.WithQueryID(queryID))
		if err == nil {
			err = s.insert(ictx, rows)
		}
		if err == nil {
			return landed, nil
		}
		s.m.failures.Inc()
		s.log.Warn("clickhouse insert failed; will check and retry", "attempt", attempt, "rows", rows.len(), "err", err)
		for {
			select {
			case <-ctx.Done():
				return landed, fmt.Errorf("sink: insert %d rows up to %s: %w", rows.len(), last, errors.Join(err, ctx.Err()))
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 30*time.Second)
			missing, perr := s.missing(ctx, queryID, rows)
			if perr != nil {
				s.log.Warn("clickhouse unreachable", "err", perr)
				continue
			}
			if n := missing.len(); n < rows.len() {
				landed = true
				s.log.Warn("a failed insert stored its rows in appeals; its views will be checked", "rows", rows.len()-n)
			}
			if missing.len() == 0 {
				return landed, nil
			}
			rows = missing
			break
		}
	}
}

// missing waits until the INSERT queryID has left ClickHouse's process list, then returns the rows of
// run that appeals does not hold (by Kafka topic, partition and offset).
func (s *ClickHouse) missing(ctx context.Context, queryID string, rows run) (run, error) {
	procs, err := s.processes(ctx)
	if err != nil {
		return nil, err
	}
	from, err := s.source(ctx, "appeals")
	if err != nil {
		return nil, err
	}
	for {
		var n uint64
		if err := s.conn.QueryRow(ctx, `SELECT count() FROM `+procs+` WHERE query_id = ? OR initial_query_id = ?`, queryID, queryID).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	type offsets struct {
		lo, hi     int64
		minT, maxT int64 // unix seconds
		topic      string
		partition  int
	}
	spans := map[model.Offset]*offsets{}
	rows.each(func(b *Block, i int) {
		k := model.Offset{Topic: b.topic, Partition: b.partition}
		off, t := b.offset[i], b.eventTime[i]
		sp := spans[k]
		if sp == nil {
			sp = &offsets{lo: off, hi: off, minT: t, maxT: t, topic: k.Topic, partition: k.Partition}
			spans[k] = sp
		}
		sp.lo, sp.hi = min(sp.lo, off), max(sp.hi, off)
		sp.minT, sp.maxT = min(sp.minT, t), max(sp.maxT, t)
	})
	have := map[model.Offset]bool{}
	for _, sp := range spans {
		rows, err := s.conn.Query(ctx, `SELECT kafka_offset FROM `+from+`
			WHERE event_time >= ? AND event_time <= ? AND kafka_topic = ? AND kafka_partition = ? AND kafka_offset >= ? AND kafka_offset <= ?`,
			time.Unix(sp.minT, 0).UTC(), time.Unix(sp.maxT, 0).UTC(), sp.topic, int32(sp.partition), sp.lo, sp.hi)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var off int64
			if err := rows.Scan(&off); err != nil {
				rows.Close()
				return nil, err
			}
			have[model.Offset{Topic: sp.topic, Partition: sp.partition, Offset: off}] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return rows.keep(func(b *Block, i int) bool {
		return !have[model.Offset{Topic: b.topic, Partition: b.partition, Offset: b.offset[i]}]
	}), nil
}

func (s *ClickHouse) insert(ctx context.Context, rows run) error {
	b, err := s.conn.PrepareBatch(ctx, insertAppeals)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	now := time.Now().UTC()
	version := uint64(now.UnixNano())
	cols, _ := s.cols.Get().(*columns)
	if cols == nil {
		cols = &columns{}
	}
	defer func() { cols.release(); s.cols.Put(cols) }()
	chunks := rows.chunks(s.cfg.BlockRows)
	for k, chunk := range chunks {
		n := chunk.len()
		for i, c := range cols.fill(chunk, now, version) {
			if err := b.Column(i).Append(c); err != nil {
				_ = b.Abort()
				return fmt.Errorf("append column %d of %d rows: %w", i, n, err)
			}
		}
		if k == len(chunks)-1 {
			break
		}
		// The driver keeps the block's buffers for the next one: the INSERT's memory is one block's.
		if err := b.Flush(); err != nil {
			_ = b.Abort()
			return fmt.Errorf("send a block of %d rows: %w", n, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// deadlineOrZero is a stated deadline in UTC, or DateTime's zero when the source stated none.
func deadlineOrZero(t time.Time) time.Time {
	if t.IsZero() || t.Before(time.Unix(0, 0)) {
		return time.Unix(0, 0).UTC()
	}
	return t.UTC()
}

func boolU8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
