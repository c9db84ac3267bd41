package dedup

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

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
// state; any other may have been another instance's meanwhile and is rebuilt from its rows in ClickHouse
// stored since now − IDHorizon. total is the topic's partition count: rows stored straight from the raw
// topics (a database that ran with the state in Redis or in one process before) belong to the partition
// their scope is produced to, and are restored there too. Partitions no longer held are dropped. It
// returns the rows applied.
func (d *Partitioned) Resume(ctx context.Context, conn driver.Conn, generation int32, partitions []int, total int) (int, error) {
	d.mu.Lock()
	next := make(map[int]*Local, len(partitions))
	var todo []int
	for _, p := range partitions {
		l := d.parts[p]
		if l != nil && d.resumed && d.held[p] && (generation == d.gen || generation == d.gen+1) {
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
	d.parts, d.gen, d.resumed = next, generation, true
	d.held = make(map[int]bool, len(partitions))
	for _, p := range partitions {
		d.held[p] = true
	}
	d.mu.Unlock()
	return n, nil
}

// rebuildPartitionsQuery reads the stored rows of some partitions of the enriched topic (the partition
// list is formatted in: integers) and every row stored straight from another topic.
const rebuildPartitionsQuery = `SELECT appeal_id, region, oktmo, text, event_time, incident_id, is_incident,
       kafka_topic, kafka_partition, kafka_offset, processed_time
FROM appeals
WHERE processed_time >= ? AND (kafka_topic != ? OR kafka_partition IN (%s))
ORDER BY is_incident DESC, event_time, appeal_id`

func (d *Partitioned) rebuild(ctx context.Context, conn driver.Conn, fresh map[int]*Local, total int) (int, error) {
	if total < 1 {
		return 0, fmt.Errorf("dedup: rebuild: %s has %d partitions", d.topic, total)
	}
	list := make([]string, 0, len(fresh))
	for p := range fresh {
		list = append(list, strconv.Itoa(p))
	}
	all := make([]int, total)
	for i := range all {
		all[i] = i
	}
	var scope kafka.Message
	var balancer kafka.Murmur2Balancer // the writer's (kafkax.NewWriter): where a scope's appeals go
	since := d.now().Add(-d.cfg.IDHorizon).UTC()
	q := fmt.Sprintf(rebuildPartitionsQuery, strings.Join(list, ","))
	// The partitions' states share this core (its stemmer), so the rows are prepared once, before they are
	// sorted into partitions.
	return readStored(ctx, conn, q, []any{since, d.topic}, d.prepare, func(c storedChunk) error {
		type part struct {
			items  []*item
			decs   []Decision
			stored []int64
		}
		by := map[int]*part{}
		for i, a := range c.appeals {
			p := a.Origin.Partition
			if a.Origin.Topic != d.topic {
				scope.Key = []byte(model.Scope(a.Region, a.OKTMO))
				if p = balancer.Balance(scope, all...); fresh[p] == nil {
					continue // another partition's
				}
			}
			pt := by[p]
			if pt == nil {
				pt = &part{}
				by[p] = pt
			}
			pt.items, pt.decs, pt.stored = append(pt.items, c.items[i]), append(pt.decs, c.decs[i]), append(pt.stored, c.stored[i])
		}
		for p, pt := range by {
			l := fresh[p]
			if l == nil {
				return fmt.Errorf("dedup: rebuild: a row of %s/%d, which was not asked for", d.topic, p)
			}
			l.restoreItems(pt.items, pt.decs, pt.stored)
		}
		return nil
	})
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
