package dedup

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/model"
)

// Local is the Deduper whose state lives in this process instead of Redis (issue 15, item 2): the same
// algorithm, features and horizons as Redis's, without a round trip per batch. It is exact only while
// this process is the one deciding every partition: nothing tells it what another instance claimed. The
// processor therefore runs it only when it holds every partition of its topics, and rebuilds it from
// ClickHouse whenever that began anew (docs/deduplication.md, "Partition-local state").
//
// Batches of several partitions may call Decide concurrently: the features are computed outside a lock,
// the decisions and claims under it, one appeal after another. So a batch's appeals are decided as if
// each had its own batch, and nothing races: there are no commit checks and no conflicts to re-decide.
type Local struct {
	core
	now func() time.Time

	mu    sync.Mutex
	st    localState
	swept int64 // unix seconds of the last sweep
	// scratch for one decision at a time (under mu)
	hits, where map[string]int
	ranked      []candidate
}

var _ Deduper = (*Local)(nil)

// localState mirrors Redis's keys; each entry lasts as long as its Redis key's TTL would, counted from
// its last write on this process's clock.
type localState struct {
	ids    map[string]localClaim  // dedup:id:<appeal id>, IDHorizon
	scopes map[string]*localScope // "<region>:<oktmo>"
}

type localClaim struct {
	origin   model.Offset
	kind     Kind
	incident string // a voice's incident ("" for an incident: itself)
	at       int64  // unix seconds of the claim
}

type localScope struct {
	buckets map[int64]*localBucket // dedup:lsh:{scope}:<bucket>, 2×Horizon after the last write
	texts   map[uint64]localText   // dedup:fp:<scope>:<fingerprint>, 2×Horizon
}

type localBucket struct {
	bands   map[uint64]string  // band (index<<32 | hash) → the member that claimed it first
	members map[string]*member // member records
	written int64
}

type localText struct {
	incident  string
	eventTime int64
	at        int64
}

// NewLocal returns an in-process Deduper. cfg's zero fields take DefaultConfig's values; KeyPrefix and
// Durability mean nothing to it. now is the clock the state's horizons run on (nil: time.Now).
func NewLocal(cfg Config, now func() time.Time) (*Local, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return newLocalWith(core{cfg: cfg, stem: newStemmer(cfg.StemCacheSize), m: m, log: cfg.Logger}, now), nil
}

// newLocalWith returns an empty Local on a core it may share with others (Partitioned's partitions).
func newLocalWith(c core, now func() time.Time) *Local {
	if now == nil {
		now = time.Now
	}
	return &Local{core: c, now: now, st: newLocalState(), hits: map[string]int{}, where: map[string]int{}}
}

func newLocalState() localState {
	return localState{ids: map[string]localClaim{}, scopes: map[string]*localScope{}}
}

// Decide implements Deduper.
func (d *Local) Decide(ctx context.Context, batch []*model.Appeal) ([]Decision, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dedup: %w", err)
	}
	items := d.prepare(batch)
	now := d.now().Unix()
	out := make([]Decision, len(items))
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sweep(now)
	for i, it := range items {
		d.decideOne(it, now)
		out[i] = it.dec
		d.m.decisions.WithLabelValues(it.dec.Kind.String()).Inc()
	}
	return out, nil
}

func (d *Local) ttl() int64       { return int64(2 * d.cfg.Horizon.Seconds()) }
func (d *Local) horizon() int64   { return int64(d.cfg.Horizon.Seconds()) }
func (d *Local) idHorizon() int64 { return int64(d.cfg.IDHorizon.Seconds()) }

// decideOne decides an appeal against the state and writes its claims, as Redis's Decide does for a
// batch of one.
func (d *Local) decideOne(it *item, now int64) {
	a := it.a
	if c, ok := d.st.ids[a.ID]; ok && now-c.at < d.idHorizon() {
		switch {
		case c.origin != a.Origin:
			it.dec = Decision{Kind: ExactDuplicate}
		case c.kind == Voice:
			it.dec = Decision{Kind: Voice, IncidentID: c.incident}
		default:
			it.dec = Decision{Kind: c.kind, IncidentID: a.ID}
		}
		return
	}
	it.dec = Decision{Kind: Incident, IncidentID: a.ID}
	if it.lsh {
		sc := d.scope(a)
		d.match(sc, it, now)
		d.store(sc, it, now)
	}
	d.claimID(it, now)
}

func (d *Local) claimID(it *item, now int64) {
	c := localClaim{origin: it.a.Origin, kind: it.dec.Kind, at: now}
	if it.dec.Kind == Voice {
		c.incident = it.dec.IncidentID
	}
	d.st.ids[it.a.ID] = c
}

func (d *Local) scope(a *model.Appeal) *localScope {
	key := model.Scope(a.Region, a.OKTMO)
	sc := d.st.scopes[key]
	if sc == nil {
		sc = &localScope{buckets: map[int64]*localBucket{}, texts: map[uint64]localText{}}
		d.st.scopes[key] = sc
	}
	return sc
}

// live returns the scope's bucket b unless it is missing or expired.
func (d *Local) live(sc *localScope, b int64, now int64) *localBucket {
	if bk := sc.buckets[b]; bk != nil && now-bk.written < d.ttl() {
		return bk
	}
	return nil
}

// bandKey packs a band field ("b", band index, 4-byte hash) into a map key.
func bandKey(f string) uint64 {
	return uint64(f[1])<<32 | uint64(binary.BigEndian.Uint32([]byte(f[2:6])))
}

// match decides a content-matched appeal: the holder of its exact text, else the best verified LSH
// candidate at or above the threshold (Redis's decideInOrder for one appeal).
func (d *Local) match(sc *localScope, it *item, now int64) {
	h := d.horizon()
	for _, fp := range it.fps {
		v, ok := sc.texts[fp]
		if ok && now-v.at < d.ttl() && v.incident != it.a.ID && abs(v.eventTime-it.rec.eventTime) <= h {
			it.dec, it.echo = Decision{Kind: Voice, IncidentID: v.incident}, true
			it.rec.incident = v.incident
			return
		}
	}
	hits, where := d.hits, d.where
	clear(hits)
	clear(where)
	for k, b := range it.bucket {
		bk := d.live(sc, b, now)
		if bk == nil {
			continue
		}
		for _, f := range it.fields {
			if v := bk.bands[bandKey(f)]; v != "" && v != it.a.ID {
				hits[v]++
				if _, ok := where[v]; !ok {
					where[v] = k
				}
			}
		}
	}
	d.ranked = rank(d.ranked, hits, d.cfg.MaxCandidates)
	best := d.cfg.Threshold
	for _, c := range d.ranked {
		bk := d.live(sc, it.bucket[where[c.id]], now)
		m := bk.members[c.id]
		if m == nil {
			continue
		}
		inc := m.incidentOf(c.id)
		if inc == it.a.ID || abs(m.eventTime-it.rec.eventTime) > h || placesConflict(&it.rec, m) {
			continue
		}
		if s := overlap(it.rec.feat, it.rec.size, m.feat, m.size); s >= best {
			if s > best || it.dec.Kind == Incident {
				best, it.dec = s, Decision{Kind: Voice, IncidentID: inc}
				it.echo = s >= echoOverlap && len(it.rec.feat) == len(m.feat)
			}
		}
	}
	it.rec.incident = ""
	if it.dec.Kind == Voice {
		it.rec.incident = it.dec.IncidentID
	}
}

// store writes a decided appeal's member record and free band fields (not an echo's) and claims its
// texts where no other claim within the horizon holds them.
func (d *Local) store(sc *localScope, it *item, now int64) {
	if !it.echo {
		d.storeMember(sc, it, now)
	}
	for _, fp := range it.fps {
		v, ok := sc.texts[fp]
		if ok && now-v.at < d.ttl() && (v.incident == it.a.ID || abs(v.eventTime-it.rec.eventTime) <= d.horizon()) {
			continue // its own (a replay after a rebuild), or the holder it follows
		}
		sc.texts[fp] = localText{incident: it.dec.IncidentID, eventTime: it.rec.eventTime, at: now}
	}
}

func (d *Local) storeMember(sc *localScope, it *item, now int64) {
	b := it.bucket[it.own]
	bk := d.live(sc, b, now)
	if bk == nil {
		bk = &localBucket{bands: map[uint64]string{}, members: map[string]*member{}}
		sc.buckets[b] = bk
	}
	for _, f := range it.fields {
		k := bandKey(f)
		if _, held := bk.bands[k]; !held {
			bk.bands[k] = it.a.ID
		}
	}
	rec := it.rec
	bk.members[it.a.ID] = &rec
	bk.written = max(bk.written, now) // a rebuild restores rows out of their writing order
}

// sweepEvery bounds how often Decide walks the state for expired entries.
const sweepEvery = 60 // seconds

// sweep drops what has outlived its horizon, as Redis's TTLs would.
func (d *Local) sweep(now int64) {
	if now-d.swept < sweepEvery {
		return
	}
	d.swept = now
	for id, c := range d.st.ids {
		if now-c.at >= d.idHorizon() {
			delete(d.st.ids, id)
		}
	}
	for key, sc := range d.st.scopes {
		for b, bk := range sc.buckets {
			if now-bk.written >= d.ttl() {
				delete(sc.buckets, b)
			}
		}
		for fp, v := range sc.texts {
			if now-v.at >= d.ttl() {
				delete(sc.texts, fp)
			}
		}
		if len(sc.buckets) == 0 && len(sc.texts) == 0 {
			delete(d.st.scopes, key)
		}
	}
}

// Rebuild replaces the state with what ClickHouse's appeals table holds of the rows stored at or after
// since (pass now − IDHorizon): the id claims, the members and their bands, and each text's first holder,
// each dated by its row's processed_time, so that it lasts as long as it would have in a process that
// never stopped. It returns the number of rows applied. Decide must not run meanwhile.
func (d *Local) Rebuild(ctx context.Context, conn driver.Conn, since time.Time) (int, error) {
	start := time.Now()
	d.mu.Lock()
	d.st = newLocalState()
	d.mu.Unlock()
	n, err := readStored(ctx, conn, rebuildProcessedQuery, []any{since.UTC()}, func(chunk []*model.Appeal, decs []Decision, stored []int64) error {
		d.restore(chunk, decs, stored)
		return nil
	})
	if err != nil {
		d.mu.Lock()
		d.st = newLocalState() // a partial state would decide as if the rest had never been seen
		d.mu.Unlock()
		return n, err
	}
	d.log.Info("dedup: in-process state rebuilt from clickhouse", "rows", n, "since", since, "took", time.Since(start).Round(time.Millisecond))
	return n, nil
}

// restore applies already decided appeals: what Redis's restore writes, plus the whole text's claim.
func (d *Local) restore(batch []*model.Appeal, decs []Decision, stored []int64) {
	items := d.prepare(batch)
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, it := range items {
		it.dec = decs[i]
		now := stored[i]
		if _, ok := d.st.ids[it.a.ID]; ok {
			continue // an unmerged repeat of the row
		}
		if it.lsh {
			sc := d.scope(it.a)
			if it.dec.Kind == Voice {
				it.rec.incident = it.dec.IncidentID
			}
			d.storeMember(sc, it, now)
			if _, ok := sc.texts[it.fps[0]]; !ok {
				sc.texts[it.fps[0]] = localText{incident: it.dec.IncidentID, eventTime: it.rec.eventTime, at: now}
			}
		}
		d.claimID(it, now)
	}
}

// LocalSize counts what a Local deduper holds.
type LocalSize struct {
	IDs, Members, Bands, Texts, Buckets, Scopes int
}

// Size reports what the state holds now (expired entries not yet swept included).
func (d *Local) Size() LocalSize {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := LocalSize{IDs: len(d.st.ids), Scopes: len(d.st.scopes)}
	for _, sc := range d.st.scopes {
		s.Texts += len(sc.texts)
		s.Buckets += len(sc.buckets)
		for _, bk := range sc.buckets {
			s.Members += len(bk.members)
			s.Bands += len(bk.bands)
		}
	}
	return s
}

// IDHorizon is how long id claims last: a rebuild reads the rows of that long ago.
func (d *Local) IDHorizon() time.Duration { return d.cfg.IDHorizon }
