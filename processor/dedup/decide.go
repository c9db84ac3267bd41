package dedup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/model"
)

// item is one appeal on its way through Decide.
type item struct {
	a      *model.Appeal
	origin string
	lsh    bool     // long enough to be matched by content
	keys   []string // bucket hashes covering [t-H, t+H] (Redis)
	bucket []int64  // their bucket numbers
	own    int      // index in bucket (and keys) of the bucket the appeal itself belongs to
	bands  [numBands]uint32
	fields *[numBands]string // the bands as Redis's fields (Redis; a pointer keeps the item small for the others)
	// bandArgs are the band fields boxed once: go-redis takes commands as []any, and boxing each field
	// for every read and commit was a third of the stage's allocations.
	bandArgs []any
	rec      member
	seen     [][numBands]string // band values found in Redis, per key ("" = free)
	expect   [][numBands]string // band values the decision relied on (Redis or in-batch), per key
	dec      Decision
	final    bool // decided by its id claim (replay or exact duplicate)
	copyOf   int  // ≥ 0: the same message twice in one batch; take that item's decision
	echo     bool // a voice that repeats its match almost verbatim: it adds nothing to remember
	// Exact-text index: the same stems in the same place belong to one incident. fpKeys[0] is the whole
	// text's; fpKeys[1], if any, the text after the lead its source prepended (a 112 card's incident
	// type), which is what a copy through another channel carries.
	fpKeys   []string // (Redis)
	fps      []uint64 // the fingerprints fpKeys name
	fpSeen   []string // "<incident>|<event time>" found under each key, "" if none
	fpClaims []*redis.BoolCmd
}

// prepare computes what both dedupers need of each appeal: stems, fingerprints, bands, its member record
// and bucket numbers.
func (d *core) prepare(batch []*model.Appeal) []*item {
	items := make([]*item, len(batch))
	slab := make([]item, len(batch)) // one allocation for the batch's items
	var stems []string
	var buf []byte
	var feat []uint32
	width := d.bucketSeconds()
	h := int64(d.cfg.Horizon.Seconds())
	for i, a := range batch {
		it := &slab[i]
		it.a, it.copyOf = a, -1
		stems, buf = d.stem.stems(stems[:0], a.Text, buf)
		a.Fingerprint = fingerprint(stems)
		feat = features(feat, stems)
		if len(feat) >= d.cfg.MinTokens {
			it.lsh = true
			it.bands = bandHashes(feat)
			t := a.EventTime.Unix()
			it.rec = member{eventTime: t, size: len(feat), feat: slices.Clone(sketch(feat))}
			it.rec.names, it.rec.nums, buf = d.stem.places(a.Text, buf)
			lo, hi, own := floorDiv(t-h, width), floorDiv(t+h, width), floorDiv(t, width)
			for b := lo; b <= hi; b++ {
				it.bucket = append(it.bucket, b)
				if b == own {
					it.own = len(it.bucket) - 1
				}
			}
			it.fps = append(it.fps, a.Fingerprint)
			if a.Hints.Lead != "" { // compared as stems: normalizing and masking may have respaced the text
				var lead []string
				lead, buf = d.stem.stems(lead, a.Hints.Lead, buf)
				if len(lead) > 0 && len(lead) < len(stems) && slices.Equal(lead, stems[:len(lead)]) {
					it.fps = append(it.fps, fingerprint(stems[len(lead):]))
				}
			}
		}
		items[i] = it
	}
	return items
}

// prepare adds to core's what Redis's round trips need: the origin as a claim writes it, the keys of
// the buckets and texts, the band fields boxed for go-redis, and room for what the reads return.
func (d *Redis) prepare(batch []*model.Appeal) []*item {
	items := d.core.prepare(batch)
	for _, it := range items {
		it.origin = it.a.Origin.String()
		if !it.lsh {
			continue
		}
		fields := bandFields(&it.bands)
		it.fields = &fields
		it.bandArgs = make([]any, numBands)
		for b, f := range it.fields {
			it.bandArgs[b] = f
		}
		for _, b := range it.bucket {
			it.keys = append(it.keys, d.bucketKey(it.a.Region, it.a.OKTMO, b))
		}
		for _, fp := range it.fps {
			it.fpKeys = append(it.fpKeys, d.fpKey(it.a, fp))
		}
		it.fpSeen = make([]string, len(it.fpKeys))
		it.seen = make([][numBands]string, len(it.keys))
		it.expect = make([][numBands]string, len(it.keys))
	}
	return items
}

// Decide implements Deduper. Round trips per batch: read id claims and bands; read candidate records;
// commit incidents (plus one more read, records and commit per conflict round, rare); commit voices
// and write id claims.
func (d *Redis) Decide(ctx context.Context, batch []*model.Appeal) ([]Decision, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	items := d.prepare(batch)
	began, err := d.guard.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("dedup: %w", err)
	}
	turn, err := d.turns.shared(ctx, items)
	if err != nil {
		return nil, fmt.Errorf("dedup: wait for the scopes' turn: %w", err)
	}
	open, err := d.decideAndClaim(ctx, items, turn)
	turn.release()
	if err != nil {
		return nil, err
	}
	if err := d.claimIDs(ctx, open); err != nil {
		return nil, err
	}
	// Only now are the decisions safe to store: a failover may have dropped claims the old master
	// acknowledged, and a redo (same origins) decides the batch again the same way.
	if err := d.guard.Confirm(ctx, began); err != nil {
		return nil, fmt.Errorf("dedup: %w", err)
	}

	out := make([]Decision, len(items))
	for i, it := range items {
		if it.copyOf >= 0 {
			it.dec = items[it.copyOf].dec
		}
		out[i] = it.dec
	}
	d.m.countDecisions(out)
	return out, nil
}

// decideAndClaim reads the items' state, decides them and writes their claims on the scopes' state. It
// returns the items decided here (not by an id claim), whose id claims are still to be written. The
// caller holds a turn on their scopes, which commitIncidents may make exclusive.
func (d *Redis) decideAndClaim(ctx context.Context, items []*item, turn *turn) ([]*item, error) {
	// Round trip 1: id claims and band fields.
	var idCmds []*redis.StringCmd
	var fpCmds [][]*redis.StringCmd
	var readBands func()
	err := d.pipe(ctx, "read", func(p redis.Pipeliner) {
		idCmds = make([]*redis.StringCmd, len(items))
		fpCmds = make([][]*redis.StringCmd, len(items))
		for i, it := range items {
			idCmds[i] = p.Get(ctx, d.idKey(it.a.ID))
			for _, k := range it.fpKeys {
				fpCmds[i] = append(fpCmds[i], p.Get(ctx, k))
			}
		}
		readBands = d.queueBandReads(ctx, p, items)
	})
	if err != nil {
		return nil, err
	}
	readBands()
	for i, it := range items {
		for j, c := range fpCmds[i] {
			it.fpSeen[j], _ = c.Result()
		}
	}

	firstByID := make(map[string]int, len(items))
	for i, it := range items {
		v, err := idCmds[i].Result()
		switch {
		case err == nil:
			origin, dec, err := decodeClaim(v)
			if err != nil {
				return nil, err
			}
			it.final = true
			if origin == it.origin {
				it.dec = dec // a replay: whatever was decided the first time
			} else {
				it.dec = Decision{Kind: ExactDuplicate}
			}
		case errors.Is(err, redis.Nil):
			if j, ok := firstByID[it.a.ID]; ok {
				if items[j].origin == it.origin {
					it.copyOf = j
				} else {
					it.final, it.dec = true, Decision{Kind: ExactDuplicate}
				}
				continue
			}
			firstByID[it.a.ID] = i
		default:
			return nil, fmt.Errorf("dedup: read id claim: %w", err)
		}
	}

	var open []*item // to be decided here, in batch order
	for _, it := range items {
		if !it.final && it.copyOf < 0 {
			open = append(open, it)
		}
	}
	if err := d.decideInOrder(ctx, open); err != nil {
		return nil, err
	}
	if err := d.commitIncidents(ctx, open, turn); err != nil {
		return nil, err
	}
	resolveChains(open)
	return open, d.commitVoices(ctx, open)
}

// getAll GETs keys in one round trip; a missing key reads as "".
func (d *Redis) getAll(ctx context.Context, phase string, keys []string) ([]string, error) {
	gets := make([]*redis.StringCmd, len(keys))
	if err := d.pipe(ctx, phase, func(p redis.Pipeliner) {
		for i, k := range keys {
			gets[i] = p.Get(ctx, k)
		}
	}); err != nil {
		return nil, err
	}
	vals := make([]string, len(keys))
	for i, g := range gets {
		v, err := g.Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("dedup: read %s: %w", keys[i], err)
		}
		vals[i] = v
	}
	return vals, nil
}

// pipe runs one pipelined round trip and times it. Per-command errors are left to the caller (a GET miss
// is an answer, not a failure); only a failure of the round trip itself is returned.
func (d *Redis) pipe(ctx context.Context, phase string, fn func(redis.Pipeliner)) error {
	start := time.Now()
	_, err := d.rdb.Pipelined(ctx, func(p redis.Pipeliner) error { fn(p); return nil })
	d.m.roundTrip.WithLabelValues(phase).Observe(time.Since(start).Seconds())
	if err == nil || !isConnErr(err) {
		return nil
	}
	return fmt.Errorf("dedup: redis %s: %w", phase, err)
}

// isConnErr tells a failed round trip from a per-command error (redis.Nil, NOSCRIPT) that the caller
// inspects itself.
func isConnErr(err error) bool {
	if errors.Is(err, redis.Nil) {
		return false
	}
	var re redis.Error
	return !errors.As(err, &re)
}

// queueBandReads adds one HMGET per bucket hash of every open content-matched item and returns the
// function that stores the answers in item.seen once the pipeline ran.
func (d *Redis) queueBandReads(ctx context.Context, p redis.Pipeliner, items []*item) func() {
	type read struct {
		it  *item
		k   int
		cmd *redis.Cmd
	}
	var reads []read
	for _, it := range items {
		if !it.lsh || it.final {
			continue
		}
		for k, key := range it.keys {
			args := append(make([]any, 0, 2+numBands), "hmget", key)
			reads = append(reads, read{it, k, p.Do(ctx, append(args, it.bandArgs...)...)})
		}
	}
	return func() {
		for _, r := range reads {
			vals, _ := r.cmd.Slice()
			for b := range numBands {
				r.it.seen[r.k][b] = ""
				if b < len(vals) {
					if s, ok := vals[b].(string); ok {
						r.it.seen[r.k][b] = s
					}
				}
			}
		}
	}
}

type candidate struct {
	id   string
	hits int
}

// rank orders candidates by shared bands (a Jaccard estimate), then id for determinism, and keeps the
// best max. It reuses dst's storage: callers rank one appeal at a time.
func rank(dst []candidate, hits map[string]int, max int) []candidate {
	out := dst[:0]
	for id, n := range hits {
		out = append(out, candidate{id, n})
	}
	slices.SortFunc(out, func(a, b candidate) int {
		if a.hits != b.hits {
			return b.hits - a.hits
		}
		return strings.Compare(a.id, b.id)
	})
	if len(out) > max {
		out = out[:max]
	}
	return out
}

// redisHits counts, per member other than the appeal itself, the bands it shares in Redis, and where
// (which bucket) its record lives, into hits and where (cleared first: one pair serves a whole batch).
func redisHits(it *item, hits, where map[string]int) {
	clear(hits)
	clear(where)
	for k := range it.keys {
		for _, v := range it.seen[k] {
			if v != "" && v != it.a.ID {
				hits[v]++
				if _, ok := where[v]; !ok {
					where[v] = k
				}
			}
		}
	}
}

// decideInOrder decides the open items in order: it fetches the records of their Redis candidates in
// one round trip, then walks the batch with an in-batch index so that the first of two near-duplicates
// in one batch is the incident of the second.
func (d *Redis) decideInOrder(ctx context.Context, open []*item) error {
	type fetch struct {
		id  string
		cmd *redis.StringCmd
	}
	var fetches []fetch
	hits, where := map[string]int{}, map[string]int{}
	var ranked []candidate
	queued := map[string]bool{}
	err := d.pipe(ctx, "records", func(p redis.Pipeliner) {
		for _, it := range open {
			if !it.lsh {
				continue
			}
			redisHits(it, hits, where)
			ranked = rank(ranked, hits, d.cfg.MaxCandidates)
			for _, c := range ranked {
				if !queued[c.id] {
					queued[c.id] = true
					fetches = append(fetches, fetch{c.id, p.HGet(ctx, it.keys[where[c.id]], recordField(c.id))})
				}
			}
		}
	})
	if err != nil {
		return err
	}
	records := make(map[string]*member, len(fetches)+len(open))
	for _, f := range fetches {
		v, err := f.cmd.Result()
		if err != nil {
			continue // expired with its bucket, or a band whose record was lost: not a candidate
		}
		m, err := decodeMember(v)
		if err != nil {
			d.log.Warn("dedup: skipping malformed record", "err", err)
			continue
		}
		records[f.id] = &m
	}

	type slot struct{ key, field string } // a band field of a bucket hash
	local := map[slot]string{}            // first in-batch claimant
	localFP := map[string]string{}        // exact-text key → "<incident>|<event time>" decided in this batch
	// The first in-batch *incident* claimant of a field: incidents are committed before voices, so that
	// is what an incident's commit check finds there (a voice's claim comes later).
	localInc := map[slot]string{}
	for _, it := range open {
		if !it.lsh {
			it.dec = Decision{Kind: Incident, IncidentID: it.a.ID}
			continue
		}
		// The same text in the same place is the same problem, whatever the similarity index would pick
		// among several near matches (it is not transitive): follow the first holder of the text.
		if inc, ok := d.sameText(it, localFP); ok {
			it.dec, it.echo = Decision{Kind: Voice, IncidentID: inc}, true
			it.rec.incident = inc
			records[it.a.ID] = &it.rec
			continue
		}
		clear(hits)
		for k, key := range it.keys {
			for b, f := range it.fields {
				v, expect := it.seen[k][b], it.seen[k][b]
				if v == "" {
					lk := slot{key, f}
					v, expect = local[lk], localInc[lk]
				}
				it.expect[k][b] = expect
				if v != "" && v != it.a.ID {
					hits[v]++
				}
			}
		}
		it.dec = Decision{Kind: Incident, IncidentID: it.a.ID}
		it.echo = false
		best := d.cfg.Threshold
		ranked = rank(ranked, hits, d.cfg.MaxCandidates)
		for _, c := range ranked {
			m := records[c.id]
			if m == nil {
				continue
			}
			inc := m.incidentOf(c.id)
			if inc == it.a.ID || abs(m.eventTime-it.rec.eventTime) > int64(d.cfg.Horizon.Seconds()) {
				continue // a crash re-run meeting its own earlier claims, or out of the horizon
			}
			if placesConflict(&it.rec, m) {
				continue // the same kind of problem somewhere else
			}
			if s := overlap(it.rec.feat, it.rec.size, m.feat, m.size); s >= best {
				if s > best || it.dec.Kind == Incident {
					best, it.dec = s, Decision{Kind: Voice, IncidentID: inc}
					// A repost or retyped copy: storing its bands and record would cost Redis
					// memory and time and match nothing its original does not.
					it.echo = s >= echoOverlap && len(it.rec.feat) == len(m.feat)
				}
			}
		}
		it.rec.incident = ""
		if it.dec.Kind == Voice {
			it.rec.incident = it.dec.IncidentID
		}
		for _, k := range it.fpKeys {
			if _, ok := localFP[k]; !ok {
				localFP[k] = textClaim(it)
			}
		}
		records[it.a.ID] = &it.rec
		if it.echo {
			continue
		}
		ownKey := it.keys[it.own]
		for b, f := range it.fields {
			if it.seen[it.own][b] != "" {
				continue
			}
			lk := slot{ownKey, f}
			if _, taken := local[lk]; !taken {
				local[lk] = it.a.ID
			}
			if _, taken := localInc[lk]; !taken && it.dec.Kind == Incident {
				localInc[lk] = it.a.ID
			}
		}
	}
	return nil
}

// echoOverlap: a voice whose stems are (nearly) those of its match is an echo, not stored as a member.
const echoOverlap = 0.95

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// commitArgs builds the commit script's keys and arguments for an item.
func (d *Redis) commitArgs(it *item, check bool) ([]string, []any) {
	keys := it.keys
	own := it.own
	if !check {
		keys, own = it.keys[it.own:it.own+1], 0
	}
	args := make([]any, 0, 7+numBands*(1+len(keys)))
	flag := "0"
	if check {
		flag = "1"
	}
	args = append(args, own+1, (2 * d.cfg.Horizon).Milliseconds(), flag, it.a.ID,
		recordField(it.a.ID), it.rec.encode(), numBands)
	args = append(args, it.bandArgs...)
	if check {
		for k := range keys {
			for _, v := range it.expect[k] {
				args = append(args, v)
			}
		}
	}
	return keys, args
}

// runCommits runs the commit script for items in one round trip (loading the script once if Redis lost
// it) and returns the items whose check failed.
func (d *Redis) runCommits(ctx context.Context, phase string, items []*item, check bool, extra func(redis.Pipeliner)) ([]*item, error) {
	for attempt := 0; ; attempt++ {
		cmds := make([]*redis.Cmd, len(items))
		err := d.pipe(ctx, phase, func(p redis.Pipeliner) {
			for i, it := range items {
				keys, args := d.commitArgs(it, check)
				cmds[i] = commitScript.EvalSha(ctx, p, keys, args...)
			}
			if extra != nil {
				extra(p)
			}
		})
		if err != nil {
			return nil, err
		}
		var failed []*item
		noScript := false
		for i, c := range cmds {
			n, err := c.Int()
			switch {
			case err != nil && redis.HasErrorPrefix(err, "NOSCRIPT"):
				noScript = true
			case err != nil:
				return nil, fmt.Errorf("dedup: commit %s: %w", items[i].a.ID, err)
			case n == 0:
				failed = append(failed, items[i])
			}
		}
		if !noScript {
			return failed, nil
		}
		if attempt > 0 {
			return nil, errors.New("dedup: commit script keeps missing from redis")
		}
		// Commits are idempotent (a member's own claims count as unchanged), so the round trip is
		// simply repeated once the script is loaded.
		if err := commitScript.Load(ctx, d.rdb).Err(); err != nil {
			return nil, fmt.Errorf("dedup: load commit script: %w", err)
		}
	}
}

// commitIncidents stores the content-matched incidents, re-deciding those whose claims raced until they
// commit or the retries run out. The last checked round runs under an exclusive turn on their scopes, so
// only another process can make it fail; after that they are stored unchecked.
func (d *Redis) commitIncidents(ctx context.Context, open []*item, turn *turn) error {
	var todo []*item
	for _, it := range open {
		if it.lsh && it.dec.Kind == Incident {
			todo = append(todo, it)
		}
	}
	for round := 0; len(todo) > 0; round++ {
		force := round > d.cfg.CommitRetries
		failed, err := d.runCommits(ctx, "commit_incidents", todo, !force, nil)
		if err != nil {
			return err
		}
		if len(failed) == 0 {
			return nil
		}
		d.m.conflicts.Add(float64(len(failed)))
		switch round {
		case d.cfg.CommitRetries - 1:
			// Exclusive on every scope this batch still writes to (its voices and text claims come
			// after), not only the failed ones': while it holds none of them shared, a write of its own
			// could otherwise fail another batch's exclusive round.
			if err := turn.exclusive(ctx, open); err != nil {
				return fmt.Errorf("dedup: wait for the scopes' exclusive turn: %w", err)
			}
		case d.cfg.CommitRetries:
			d.m.forced.Add(float64(len(failed)))
			d.log.Warn("dedup: incident claims keep racing with another instance; storing them as incidents", "appeals", len(failed))
		}
		var readBands func()
		if err := d.pipe(ctx, "reread", func(p redis.Pipeliner) { readBands = d.queueBandReads(ctx, p, failed) }); err != nil {
			return err
		}
		readBands()
		if err := d.decideInOrder(ctx, failed); err != nil {
			return err
		}
		todo = todo[:0]
		for _, it := range failed {
			if it.dec.Kind == Incident {
				todo = append(todo, it)
			}
		}
	}
	return nil
}

// resolveChains points voices of an in-batch appeal that itself turned into a voice (after a race) at
// that appeal's incident.
func resolveChains(open []*item) {
	byID := make(map[string]*item, len(open))
	for _, it := range open {
		byID[it.a.ID] = it
	}
	for _, it := range open {
		for range len(open) {
			up, ok := byID[it.dec.IncidentID]
			if it.dec.Kind != Voice || !ok || up == it || up.dec.Kind != Voice {
				break
			}
			it.dec.IncidentID = up.dec.IncidentID
		}
		if it.dec.Kind == Voice {
			it.rec.incident = it.dec.IncidentID
		}
	}
}

// commitVoices stores the voices' records and bands and claims the exact texts.
func (d *Redis) commitVoices(ctx context.Context, open []*item) error {
	var voices []*item
	for _, it := range open {
		if it.lsh && it.dec.Kind == Voice && !it.echo {
			voices = append(voices, it)
		}
	}
	_, err := d.runCommits(ctx, "commit_voices", voices, false, func(p redis.Pipeliner) {
		d.queueTextClaims(ctx, p, open)
	})
	if err != nil {
		return err
	}
	return d.settleTextClaims(ctx, open)
}

// claimIDs writes the id claims of everything decided here, after all its other claims: until an
// appeal's claim exists, a re-run after a crash decides it anew and, finding its own bands ignored,
// decides it the same way. It needs no scope turn: an id is only ever decided by its own partition
// (raw records are keyed by it), and a claim that meets another's is settled here.
func (d *Redis) claimIDs(ctx context.Context, open []*item) error {
	claims := make([]*redis.BoolCmd, len(open))
	if err := d.pipe(ctx, "claims", func(p redis.Pipeliner) {
		for i, it := range open {
			claims[i] = p.SetNX(ctx, d.idKey(it.a.ID), encodeClaim(it.origin, it.dec), d.cfg.IDHorizon)
		}
	}); err != nil {
		return err
	}
	var lost []int
	for i, c := range claims {
		ok, err := c.Result()
		if err != nil {
			return fmt.Errorf("dedup: claim %s: %w", open[i].a.ID, err)
		}
		if !ok {
			lost = append(lost, i)
		}
	}
	if len(lost) == 0 {
		return nil
	}
	// Another instance claimed the same id in the meantime: a concurrent retry from another partition,
	// or our own pipeline repeated after a lost script.
	keys := make([]string, len(lost))
	for j, i := range lost {
		keys[j] = d.idKey(open[i].a.ID)
	}
	vals, err := d.getAll(ctx, "reclaim", keys)
	if err != nil {
		return err
	}
	for j, i := range lost {
		it := open[i]
		v := vals[j]
		if v == "" {
			return fmt.Errorf("dedup: read claim %s: %w", it.a.ID, redis.Nil)
		}
		origin, dec, err := decodeClaim(v)
		if err != nil {
			return err
		}
		if origin == it.origin {
			it.dec = dec
		} else {
			it.dec = Decision{Kind: ExactDuplicate}
		}
	}
	return nil
}
