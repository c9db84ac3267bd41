package dedup

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/model"
)

// Partitioned is the Deduper of the processor's second stage (issue 15, item 2): appeals.enriched is keyed
// by scope, so every appeal that one scope's decisions read or change arrives through one partition, and
// each partition's state can live in memory with the instance that holds the partition — a Local per
// partition. A partition's batches are decided one after another, and a batch that fails to store leaves
// the later ones unstored too, so what ClickHouse holds of a partition's rows is exactly the state its
// resume point needs: an instance that is handed a partition rebuilds its state from those rows (Resume).
// Replays of the first stage (the same appeal at another enriched offset of the partition) meet the id
// claims and are exact duplicates.
type Partitioned struct {
	core
	now   func() time.Time
	topic string

	mu      sync.Mutex
	parts   map[int]*Local
	gen     int32
	held    map[int]bool
	resumed bool
	all     []int // the topic's partitions at the last Resume: where the writer sends a scope now
}

var _ Deduper = (*Partitioned)(nil)

// NewPartitioned returns a deduper for the partitions of topic (appeals.enriched) that Resume hands it.
func NewPartitioned(cfg Config, topic string, now func() time.Time) (*Partitioned, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if topic == "" {
		return nil, fmt.Errorf("dedup: partitioned state needs its topic")
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Partitioned{core: core{cfg: cfg, stem: newStemmer(cfg.StemCacheSize), m: m, log: cfg.Logger}, now: now,
		topic: topic, parts: map[int]*Local{}, held: map[int]bool{}}, nil
}

// ErrNotHeld: a batch of a partition this instance was not handed (or no longer holds).
var ErrNotHeld = fmt.Errorf("dedup: partition not held by this instance")

// Decide implements Deduper for a batch of one partition of the topic.
func (d *Partitioned) Decide(ctx context.Context, batch []*model.Appeal) ([]Decision, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	p := batch[0].Origin.Partition
	for _, a := range batch {
		if a.Origin.Topic != d.topic || a.Origin.Partition != p {
			return nil, fmt.Errorf("dedup: a batch mixes %s/%d with %s: each partition's state is its own", d.topic, p, a.Origin)
		}
	}
	d.mu.Lock()
	l := d.parts[p]
	d.mu.Unlock()
	if l == nil {
		return nil, fmt.Errorf("%w: %s/%d", ErrNotHeld, d.topic, p)
	}
	return l.Decide(ctx, batch)
}

// Resume makes the state of a generation's partitions whole before they are consumed. A partition this
// instance held in the generation just before (or in this one, when the resume is retried) keeps its
// state, unless the topic's partition count changed since; any other may have been another instance's
// meanwhile and is rebuilt from ClickHouse: the rows stored since now − IDHorizon whose scope the
// writer sends to it under today's count of total partitions (rows stored under another count, or
// straight from the raw topics by a database that ran with the state in Redis or in one process, are
// restored where their scope goes now). Partitions no longer held are dropped. It returns the rows
// applied.
func (d *Partitioned) Resume(ctx context.Context, conn driver.Conn, generation int32, partitions []int, total int) (int, error) {
	if total < 1 {
		return 0, fmt.Errorf("dedup: resume: %s has %d partitions", d.topic, total)
	}
	d.mu.Lock()
	next := make(map[int]*Local, len(partitions))
	var todo []int
	for _, p := range partitions {
		l := d.parts[p]
		if l != nil && d.resumed && d.held[p] && (generation == d.gen || generation == d.gen+1) && len(d.all) == total {
			next[p] = l
			continue
		}
		todo = append(todo, p)
	}
	d.mu.Unlock()
	n := 0
	if len(todo) > 0 {
		start := time.Now()
		fresh := make(map[int]*Local, len(todo))
		for _, p := range todo {
			fresh[p] = newLocalWith(d.core, d.now)
		}
		var err error
		if n, err = d.rebuild(ctx, conn, fresh, total); err != nil {
			return n, err
		}
		for p, l := range fresh {
			next[p] = l
		}
		sort.Ints(todo)
		d.log.Info("dedup: partitions' state rebuilt from clickhouse", "topic", d.topic, "partitions", todo, "rows", n,
			"took", time.Since(start).Round(time.Millisecond))
	}
	d.mu.Lock()
	d.parts, d.gen, d.resumed, d.all = next, generation, true, allPartitions(total)
	d.held = make(map[int]bool, len(partitions))
	for _, p := range partitions {
		d.held[p] = true
	}
	d.mu.Unlock()
	return n, nil
}

// allPartitions is 0 … total−1, the partition list a balancer chooses from.
func allPartitions(total int) []int {
	all := make([]int, total)
	for i := range all {
		all[i] = i
	}
	return all
}

// partitionOf is the partition the first stage's writer (kafkax.NewWriter: murmur2) sends key to.
func partitionOf(key []byte, all []int) int {
	var balancer kafka.Murmur2Balancer
	return balancer.Balance(kafka.Message{Key: key}, all...)
}

// Misplaced reports whether a record of the topic read from partition was produced under another
// partition count than the one of the last Resume: its key (the scope it was re-keyed by) goes to
// another partition now, whose state decides that scope. The processor forwards such a record there
// instead of deciding it (pipeline.Deps.Placement).
func (d *Partitioned) Misplaced(key []byte, partition int) bool {
	if len(key) == 0 { // not the first stage's: murmur2 would pick a random partition each time
		return false
	}
	d.mu.Lock()
	all := d.all
	d.mu.Unlock()
	return len(all) > 0 && partitionOf(key, all) != partition
}

// scopesStoredQuery lists the scopes of the rows a rebuild may read.
const scopesStoredQuery = `SELECT DISTINCT region, oktmo FROM appeals WHERE processed_time >= ?`

// rebuildPartitionsQuery reads the stored rows of some scopes (the list of (region, oktmo) tuples is
// formatted in, quoted: ≈ 26 bytes a scope, so ClickHouse's 256 KiB max_query_size holds ≈ 9,000 scopes
// per instance; all of Russia has a few thousand municipal districts and okrugs).
const rebuildPartitionsQuery = `SELECT appeal_id, region, oktmo, text, event_time, incident_id, is_incident,
       kafka_topic, kafka_partition, kafka_offset, processed_time
FROM appeals
WHERE processed_time >= ? AND (region, oktmo) IN (%s)
ORDER BY is_incident DESC, event_time, appeal_id`

// rebuild restores into fresh the rows of the scopes the writer sends to fresh's partitions. The scopes
// are chosen first and the rows filtered by them in ClickHouse, so an instance reads only its own share
// however the rows were partitioned when they were stored.
func (d *Partitioned) rebuild(ctx context.Context, conn driver.Conn, fresh map[int]*Local, total int) (int, error) {
	all := allPartitions(total)
	since := d.now().Add(-d.cfg.IDHorizon).UTC()
	owner, tuples, err := d.heldScopes(ctx, conn, since, fresh, all)
	if err != nil || len(tuples) == 0 {
		return 0, err
	}
	q := fmt.Sprintf(rebuildPartitionsQuery, strings.Join(tuples, ","))
	// The partitions' states share this core (its stemmer), so the rows are prepared once, before they are
	// sorted into partitions.
	return readStored(ctx, conn, q, []any{since}, d.prepare, func(c storedChunk) error {
		type part struct {
			items  []*item
			decs   []Decision
			stored []int64
		}
		by := map[int]*part{}
		for i, a := range c.appeals {
			p, ok := owner[model.Scope(a.Region, a.OKTMO)]
			if !ok {
				return fmt.Errorf("dedup: rebuild: a row of scope %s, which was not asked for", model.Scope(a.Region, a.OKTMO))
			}
			pt := by[p]
			if pt == nil {
				pt = &part{}
				by[p] = pt
			}
			pt.items, pt.decs, pt.stored = append(pt.items, c.items[i]), append(pt.decs, c.decs[i]), append(pt.stored, c.stored[i])
		}
		for p, pt := range by {
			fresh[p].restoreItems(pt.items, pt.decs, pt.stored)
		}
		return nil
	})
}

// heldScopes lists the stored scopes that go to fresh's partitions: each one's partition, and the
// (region, oktmo) tuples as SQL literals.
func (d *Partitioned) heldScopes(ctx context.Context, conn driver.Conn, since time.Time, fresh map[int]*Local, all []int) (map[string]int, []string, error) {
	rows, err := conn.Query(ctx, scopesStoredQuery, since)
	if err != nil {
		return nil, nil, fmt.Errorf("dedup: rebuild: list the stored scopes: %w", err)
	}
	defer rows.Close()
	owner := map[string]int{}
	var tuples []string
	for rows.Next() {
		var region, oktmo string
		if err := rows.Scan(&region, &oktmo); err != nil {
			return nil, nil, fmt.Errorf("dedup: rebuild: list the stored scopes: %w", err)
		}
		scope := model.Scope(region, oktmo)
		if p := partitionOf([]byte(scope), all); fresh[p] != nil {
			owner[scope] = p
			tuples = append(tuples, "("+chstore.Literal(region)+","+chstore.Literal(oktmo)+")")
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("dedup: rebuild: list the stored scopes: %w", err)
	}
	return owner, tuples, nil
}

// IDHorizon is how long id claims last (and the first stage's routes, Routes).
func (d *Partitioned) IDHorizon() time.Duration { return d.cfg.IDHorizon }

// Size adds up what the partitions' states hold.
func (d *Partitioned) Size() LocalSize {
	d.mu.Lock()
	parts := make([]*Local, 0, len(d.parts))
	for _, l := range d.parts {
		parts = append(parts, l)
	}
	d.mu.Unlock()
	var s LocalSize
	for _, l := range parts {
		x := l.Size()
		s.IDs, s.Members, s.Bands, s.Texts, s.Buckets, s.Scopes, s.Bytes = s.IDs+x.IDs, s.Members+x.Members, s.Bands+x.Bands,
			s.Texts+x.Texts, s.Buckets+x.Buckets, s.Scopes+x.Scopes, s.Bytes+x.Bytes
	}
	return s
}
