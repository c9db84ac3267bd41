package dedup

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"slices"
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

	seeds [2]maphash.Seed

	mu    sync.Mutex
	st    localState
	swept int64 // unix seconds of the last sweep
	// scratch for one decision at a time (under mu)
	cands []localCand
	tied  []localCand // cutCandidates' scratch
}

// localCand is an LSH candidate: a member of one of the appeal's buckets, the bands it shares and its id.
type localCand struct {
	bk   *localBucket
	id   []byte // in the arena
	idx  uint32
	k    uint32 // which of the appeal's buckets
	hits int
}

var _ Deduper = (*Local)(nil)

// localState mirrors Redis's keys; each entry lasts as long as its Redis key's TTL would, counted from
// its last write on this process's clock. It holds no Go pointers per appeal: a million appeals inside the
// horizon would otherwise be millions of pointers for the garbage collector to trace on every cycle (the
// first, map-of-strings layout of this type cost the processor twice its CPU in bench-peer). Appeal ids
// are keyed by a 128-bit hash and their text kept once in an arena of bytes, referred to by offset.
type localState struct {
	ids       map[idKey]localClaim   // dedup:id:<appeal id>, IDHorizon
	scopes    map[string]*localScope // "<region>:<oktmo>"
	strs      []byte                 // appeal ids, each length-prefixed; a ref is an offset
	topics    []string               // origin topics, interned
	topicIdx  map[string]uint16
	compactAt int // len(strs) that triggers the next compaction
}

// idKey is an appeal id's 128-bit hash (two seeded maphash values): with n ids a collision has
// probability about n²/2¹²⁹, nothing any horizon comes near.
type idKey [2]uint64

// noRef is an absent string ref.
const noRef = ^uint32(0)

// localClaim's fields run from the widest down: 24 bytes instead of 32 with padding, and a map slot of
// 40 bytes instead of 48 for every appeal of the id horizon.
type localClaim struct {
	offset int64
	at     uint32 // unix seconds of the claim
	part   int32
	inc    uint32 // a voice's incident (ref); noRef for an incident
	topic  uint16 // the origin's, interned
	kind   Kind
}

type localScope struct {
	buckets map[int64]*localBucket // dedup:lsh:{scope}:<bucket>, 2×Horizon after the last write
	texts   map[uint64]localText   // dedup:fp:<scope>:<fingerprint>, 2×Horizon
}

type localBucket struct {
	bands   bandTable // band → the member (index in recs) that claimed it first
	recs    []localMember
	feats   []uint32 // every member's sketch, place names and house numbers, back to back
	written int64
}

// localMember is a member record (Redis's encoded member) with its slices in the bucket's feats.
type localMember struct {
	eventTime            int64
	id, inc              uint32 // refs; inc = noRef: the member is its own incident
	idh                  uint32 // idHash of the id: telling a member from the appeal itself reads no arena
	feat                 uint32 // offset in feats
	size                 uint16
	nFeat, nNames, nNums uint8
}

type localText struct {
	inc       uint32 // ref
	at        uint32
	eventTime int64
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
	return &Local{core: c, now: now, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		st: newLocalState()}
}

// minCompact is the smallest id arena worth compacting.
const minCompact = 1 << 20

func newLocalState() localState {
	return localState{ids: map[idKey]localClaim{}, scopes: map[string]*localScope{}, topicIdx: map[string]uint16{},
		compactAt: minCompact}
}

func (d *Local) key(id string) idKey {
	return idKey{maphash.String(d.seeds[0], id), maphash.String(d.seeds[1], id)}
}

// idHash is a member's 32-bit tag of its id (the first half of its key); equal ids have equal tags.
func (d *Local) idHash(id string) uint32 { return uint32(maphash.String(d.seeds[0], id)) }

// put stores s in the arena and returns its ref.
func (d *Local) put(s string) uint32 {
	r := uint32(len(d.st.strs))
	d.st.strs = binary.AppendUvarint(d.st.strs, uint64(len(s)))
	d.st.strs = append(d.st.strs, s...)
	return r
}

// str is the arena's bytes of ref r (valid until the next compaction).
func (d *Local) str(r uint32) []byte { return arenaGet(d.st.strs, r) }

func arenaGet(a []byte, r uint32) []byte {
	if n := a[r]; n < 0x80 { // a one-byte length: every id shorter than 128 bytes
		return a[r+1 : r+1+uint32(n)]
	}
	n, k := binary.Uvarint(a[r:])
	return a[int(r)+k : int(r)+k+int(n)]
}

func (d *Local) topic(t string) uint16 {
	i, ok := d.st.topicIdx[t]
	if !ok {
		i = uint16(len(d.st.topics))
		d.st.topics = append(d.st.topics, t)
		d.st.topicIdx[t] = i
	}
	return i
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
	}
	d.m.countDecisions(out)
	return out, nil
}

func (d *Local) ttl() int64       { return int64(2 * d.cfg.Horizon.Seconds()) }
func (d *Local) horizon() int64   { return int64(d.cfg.Horizon.Seconds()) }
func (d *Local) idHorizon() int64 { return int64(d.cfg.IDHorizon.Seconds()) }

// decision is what the state remembers of one appeal while it is decided: the refs of its own id (noRef
// until needed) and of its incident.
type decision struct {
	own, inc uint32
}

func (x *decision) ownRef(d *Local, id string) uint32 {
	if x.own == noRef {
		x.own = d.put(id)
	}
	return x.own
}

// incidentRef is the ref of the appeal's incident: its own id for an incident.
func (x *decision) incidentRef(d *Local, it *item) uint32 {
	if it.dec.Kind == Voice {
		return x.inc
	}
	return x.ownRef(d, it.a.ID)
}

// decideOne decides an appeal against the state and writes its claims, as Redis's Decide does for a
// batch of one.
func (d *Local) decideOne(it *item, now int64) {
	a := it.a
	key := d.key(a.ID)
	if c, ok := d.st.ids[key]; ok && now-int64(c.at) < d.idHorizon() {
		switch {
		case d.st.topics[c.topic] != a.Origin.Topic || int(c.part) != a.Origin.Partition || c.offset != a.Origin.Offset:
			it.dec = Decision{Kind: ExactDuplicate}
		case c.kind == Voice:
			it.dec = Decision{Kind: Voice, IncidentID: string(d.str(c.inc))}
		default:
			it.dec = Decision{Kind: c.kind, IncidentID: a.ID}
		}
		return
	}
	it.dec = Decision{Kind: Incident, IncidentID: a.ID}
	x := decision{own: noRef, inc: noRef}
	if it.lsh {
		sc := d.scope(a)
		d.match(sc, it, &x, now)
		d.store(sc, it, &x, now)
	}
	d.claimID(key, it, x.inc, now)
}

func (d *Local) claimID(key idKey, it *item, inc uint32, at int64) {
	c := localClaim{at: uint32(at), kind: it.dec.Kind, topic: d.topic(it.a.Origin.Topic), part: int32(it.a.Origin.Partition),
		offset: it.a.Origin.Offset, inc: noRef}
	if it.dec.Kind == Voice {
		c.inc = inc
	}
	d.st.ids[key] = c
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

// view is a member record as the matching code reads it; its slices alias the bucket's feats.
func (bk *localBucket) view(m *localMember) member {
	f := bk.feats[m.feat:]
	nf, nn := int(m.nFeat), int(m.nNames)
	return member{eventTime: m.eventTime, size: int(m.size), feat: f[:nf:nf], names: f[nf : nf+nn : nf+nn],
		nums: f[nf+nn : nf+nn+int(m.nNums) : nf+nn+int(m.nNums)]}
}

// memberIncident is the ref of a member's incident: itself unless it is a voice.
func memberIncident(m *localMember) uint32 {
	if m.inc == noRef {
		return m.id
	}
	return m.inc
}

// match decides a content-matched appeal: the holder of its exact text, else the best verified LSH
// candidate at or above the threshold (Redis's decideInOrder for one appeal).
func (d *Local) match(sc *localScope, it *item, x *decision, now int64) {
	h := d.horizon()
	for _, fp := range it.fps {
		v, ok := sc.texts[fp]
		if ok && now-int64(v.at) < d.ttl() && string(d.str(v.inc)) != it.a.ID && abs(v.eventTime-it.rec.eventTime) <= h {
			inc := string(d.str(v.inc))
			it.dec, it.echo, x.inc = Decision{Kind: Voice, IncidentID: inc}, true, v.inc
			it.rec.incident = inc
			return
		}
	}
	// Candidates are counted per member, then the appeal's own record (a replay after a rebuild) is
	// dropped: an appeal shares at most numBands bands with each of at most two buckets, so a linear
	// search beats a map, and the arena is read once per candidate instead of once per shared band.
	d.cands = d.cands[:0]
	for k, b := range it.bucket {
		bk := d.live(sc, b, now)
		if bk == nil {
			continue
		}
		var holders [numBands]uint32
		bk.bands.getAll(&it.bands, &holders)
	bands:
		for _, idx := range holders {
			if idx == noMember {
				continue
			}
			for i := range d.cands {
				if c := &d.cands[i]; c.idx == idx && c.k == uint32(k) {
					c.hits++
					continue bands
				}
			}
			d.cands = append(d.cands, localCand{bk: bk, idx: idx, k: uint32(k), hits: 1})
		}
	}
	// The appeal's own record (a replay after a rebuild) is no candidate; the id tag spares reading the
	// arena for every other member.
	ownH, n := d.idHash(it.a.ID), 0
	for _, c := range d.cands {
		if rec := &c.bk.recs[c.idx]; rec.idh == ownH && string(d.str(rec.id)) == it.a.ID {
			continue
		}
		d.cands[n] = c
		n++
	}
	d.cands = d.cands[:n]
	// Redis ranks candidates by shared bands, then by member id, and verifies the first MaxCandidates,
	// taking the first of the highest overlap. The same choice needs the ids only where bands tie: at the
	// cut, and between candidates of equal overlap (ranksBefore). Reading every candidate's id from the
	// arena was a fifth of the matching's time.
	if k := d.cfg.MaxCandidates; len(d.cands) > k {
		d.cutCandidates(k)
	}
	best, win, bestInc := d.cfg.Threshold, -1, noRef
	for i := range d.cands {
		c := &d.cands[i]
		rec := &c.bk.recs[c.idx]
		m := c.bk.view(rec)
		if abs(m.eventTime-it.rec.eventTime) > h || placesConflict(&it.rec, &m) {
			continue
		}
		s := overlap(it.rec.feat, it.rec.size, m.feat, m.size)
		if s < best || win >= 0 && s == best && !d.ranksBefore(c, &d.cands[win]) {
			continue
		}
		// A voice of the appeal itself (a replay) is no match. Asked only of a would-be winner: it reads
		// the arena. (A member that is its own incident is not the appeal: its id was compared above.)
		if rec.inc != noRef && string(d.str(rec.inc)) == it.a.ID {
			continue
		}
		best, win, bestInc = s, i, memberIncident(rec)
		it.echo = s >= echoOverlap && len(it.rec.feat) == len(m.feat)
	}
	it.rec.incident = ""
	if bestInc != noRef {
		it.dec = Decision{Kind: Voice, IncidentID: string(d.str(bestInc))}
		it.rec.incident, x.inc = it.dec.IncidentID, bestInc
	}
}

// cutCandidates keeps the k candidates Redis would verify: the most shared bands and, where bands tie
// at the cut, the smallest member ids. Their order is left free, since the verification's choice does
// not depend on it (ranksBefore decides ties). A candidate shares at most numBands bands with its
// bucket, so counting the candidates per number of shared bands finds the cut without sorting them.
func (d *Local) cutCandidates(k int) {
	var per [numBands + 1]int
	for _, c := range d.cands {
		per[c.hits]++
	}
	t, above := numBands, 0 // the cut's number of shared bands; candidates sharing more
	for above+per[t] < k {
		above += per[t]
		t--
	}
	// Where the candidates sharing t bands straddle the cut, those of the smallest ids stay.
	straddle := above+per[t] > k
	kept, tied := d.cands[:0], d.tied[:0]
	for _, c := range d.cands {
		switch {
		case c.hits > t || c.hits == t && !straddle:
			kept = append(kept, c)
		case c.hits == t:
			c.id = d.str(c.bk.recs[c.idx].id)
			tied = append(tied, c)
		}
	}
	if straddle {
		slices.SortFunc(tied, func(a, b localCand) int { return bytes.Compare(a.id, b.id) })
		kept = append(kept, tied[:k-above]...)
		d.tied = tied[:0]
	}
	d.cands = kept
}

// ranksBefore reports whether candidate a comes before b in Redis's rank: more shared bands, or as many
// and the smaller member id. It reads the ids only for a tie.
func (d *Local) ranksBefore(a, b *localCand) bool {
	if a.hits != b.hits {
		return a.hits > b.hits
	}
	for _, c := range [...]*localCand{a, b} {
		if c.id == nil {
			c.id = d.str(c.bk.recs[c.idx].id)
		}
	}
	return bytes.Compare(a.id, b.id) < 0
}

// store writes a decided appeal's member record and free band fields (not an echo's) and claims its
// texts where no other claim within the horizon holds them.
func (d *Local) store(sc *localScope, it *item, x *decision, now int64) {
	if !it.echo {
		inc := noRef
		if it.dec.Kind == Voice {
			inc = x.inc
		}
		d.storeMember(sc, it, x.ownRef(d, it.a.ID), inc, now)
	}
	for _, fp := range it.fps {
		v, ok := sc.texts[fp]
		if ok && now-int64(v.at) < d.ttl() && (string(d.str(v.inc)) == it.a.ID || abs(v.eventTime-it.rec.eventTime) <= d.horizon()) {
			continue // its own (a replay after a rebuild), or the holder it follows
		}
		sc.texts[fp] = localText{inc: x.incidentRef(d, it), eventTime: it.rec.eventTime, at: uint32(now)}
	}
}

func (d *Local) storeMember(sc *localScope, it *item, own, inc uint32, now int64) {
	b := it.bucket[it.own]
	bk := d.live(sc, b, now)
	if bk == nil {
		bk = &localBucket{}
		sc.buckets[b] = bk
	}
	idx := uint32(len(bk.recs))
	r := &it.rec
	bk.recs = append(bk.recs, localMember{eventTime: r.eventTime, id: own, inc: inc, idh: d.idHash(it.a.ID), feat: uint32(len(bk.feats)),
		size: uint16(min(r.size, 0xffff)), nFeat: uint8(len(r.feat)), nNames: uint8(len(r.names)), nNums: uint8(len(r.nums))})
	bk.feats = append(append(append(bk.feats, r.feat...), r.names...), r.nums...)
	for b, h := range it.bands {
		bk.bands.claim(b, h, idx)
	}
	bk.written = max(bk.written, now) // a rebuild restores rows out of their writing order
}

// sweepEvery bounds how often Decide walks the state for expired entries.
const sweepEvery = 60 // seconds

// sweep drops what has outlived its horizon, as Redis's TTLs would, and compacts the id arena once it has
// doubled since it was last compacted.
func (d *Local) sweep(now int64) {
	if now-d.swept < sweepEvery {
		return
	}
	d.swept = now
	for k, c := range d.st.ids {
		if now-int64(c.at) >= d.idHorizon() {
			delete(d.st.ids, k)
		}
	}
	for key, sc := range d.st.scopes {
		for b, bk := range sc.buckets {
			if now-bk.written >= d.ttl() {
				delete(sc.buckets, b)
			}
		}
		for fp, v := range sc.texts {
			if now-int64(v.at) >= d.ttl() {
				delete(sc.texts, fp)
			}
		}
		if len(sc.buckets) == 0 && len(sc.texts) == 0 {
			delete(d.st.scopes, key)
		}
	}
	if len(d.st.strs) >= d.st.compactAt {
		d.compact()
	}
}

// compact copies the ids still referred to into a new arena.
func (d *Local) compact() {
	old := d.st.strs
	d.st.strs = make([]byte, 0, len(old)/2)
	moved := map[uint32]uint32{}
	move := func(r uint32) uint32 {
		if r == noRef {
			return r
		}
		n, ok := moved[r]
		if !ok {
			n = uint32(len(d.st.strs))
			b := arenaGet(old, r)
			d.st.strs = binary.AppendUvarint(d.st.strs, uint64(len(b)))
			d.st.strs = append(d.st.strs, b...)
			moved[r] = n
		}
		return n
	}
	for k, c := range d.st.ids {
		if c.inc != noRef {
			c.inc = move(c.inc)
			d.st.ids[k] = c
		}
	}
	for _, sc := range d.st.scopes {
		for _, bk := range sc.buckets {
			for i := range bk.recs {
				bk.recs[i].id, bk.recs[i].inc = move(bk.recs[i].id), move(bk.recs[i].inc)
			}
		}
		for fp, v := range sc.texts {
			v.inc = move(v.inc)
			sc.texts[fp] = v
		}
	}
	d.st.compactAt = max(2*len(d.st.strs), minCompact)
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
	n, err := readStored(ctx, conn, rebuildProcessedQuery, []any{since.UTC()}, d.prepare, func(c storedChunk) error {
		d.restoreItems(c.items, c.decs, c.stored)
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

// restoreItems applies already decided appeals, prepared by a deduper on this one's core: what Redis's
// restore writes, plus the whole text's claim.
func (d *Local) restoreItems(items []*item, decs []Decision, stored []int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, it := range items {
		it.dec = decs[i]
		now := stored[i]
		key := d.key(it.a.ID)
		if _, ok := d.st.ids[key]; ok {
			continue // an unmerged repeat of the row
		}
		x := decision{own: noRef, inc: noRef}
		if it.dec.Kind == Voice {
			x.inc = d.put(it.dec.IncidentID)
		}
		if it.lsh {
			sc := d.scope(it.a)
			inc := noRef
			if it.dec.Kind == Voice {
				inc = x.inc
			}
			d.storeMember(sc, it, x.ownRef(d, it.a.ID), inc, now)
			if _, ok := sc.texts[it.fps[0]]; !ok {
				sc.texts[it.fps[0]] = localText{inc: x.incidentRef(d, it), eventTime: it.rec.eventTime, at: uint32(now)}
			}
		}
		d.claimID(key, it, x.inc, now)
	}
}

// LocalSize counts what a Local deduper holds.
type LocalSize struct {
	IDs, Members, Bands, Texts, Buckets, Scopes int
	Bytes                                       int // the id arena, the members' features and places
	BandBytes                                   int // the buckets' band tables
}

// HeapBytes estimates the Go heap behind these counts: map entries with their share of the maps' slack,
// the fixed-size records and the byte arrays (BenchmarkLocalMemoryPerAppeal reports it beside the
// measured heap).
func (s LocalSize) HeapBytes() int64 {
	return int64(s.IDs)*64 + int64(s.Members)*40 + int64(s.BandBytes) + int64(s.Texts)*44 + int64(s.Bytes)*5/4 +
		int64(s.Buckets)*256 + int64(s.Scopes)*256
}

// Size reports what the state holds now (expired entries not yet swept included).
func (d *Local) Size() LocalSize {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := LocalSize{IDs: len(d.st.ids), Scopes: len(d.st.scopes), Bytes: len(d.st.strs)}
	for _, sc := range d.st.scopes {
		s.Texts += len(sc.texts)
		s.Buckets += len(sc.buckets)
		for _, bk := range sc.buckets {
			s.Members += len(bk.recs)
			s.Bands += bk.bands.len()
			s.BandBytes += bk.bands.bytes()
			s.Bytes += 4 * len(bk.feats)
		}
	}
	return s
}

// IDHorizon is how long id claims last: a rebuild reads the rows of that long ago.
func (d *Local) IDHorizon() time.Duration { return d.cfg.IDHorizon }
