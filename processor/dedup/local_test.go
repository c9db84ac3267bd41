package dedup

import (
	"strconv"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// differentialStream is a stream for comparing the two dedupers: the synthetic stream's repeated
// problems in ten municipalities, with client retries (the same id from a new offset) and replays (the
// same message again), followed by the portal's real texts in one scope.
func differentialStream(t *testing.T, n int) []*model.Appeal {
	gen := newStreamGen(7)
	var out []*model.Appeal
	for i := range n {
		a := gen.next()
		a.Origin.Offset = int64(len(out))
		out = append(out, a)
		switch {
		case i%41 == 40: // a client retry of an earlier appeal
			r := *out[len(out)-1-i%17]
			r.Origin.Offset = int64(len(out))
			out = append(out, &r)
		case i%53 == 52: // a replay of an earlier message
			r := *out[len(out)-1-i%13]
			out = append(out, &r)
		}
	}
	recs := portalRecords(t)
	start := out[len(out)-1].EventTime
	for i, r := range recs {
		out = append(out, appealAt(model.SourceNashDom, "portal-"+strconv.Itoa(i), r[1], oktmoRyazan,
			start.Add(time.Duration(i)*time.Minute), 1, int64(i)))
	}
	return out
}

func cloneAppeal(a *model.Appeal) *model.Appeal { c := *a; return &c }

// The in-process deduper decides every appeal as the Redis one does, one appeal per batch (within a batch
// Redis commits incidents before voices, so a later batch may find a band held by another member).
func TestLocalDecidesAsRedis(t *testing.T) {
	stream := differentialStream(t, 4000)
	rd, _, _ := newTestDeduper(t)
	ld := newLocalDeduper(t)
	ctx := testCtx(t)
	kinds := map[Kind]int{}
	for i, a := range stream {
		want := decide(t, ctx, rd, cloneAppeal(a))[0]
		got := decide(t, ctx, ld, cloneAppeal(a))[0]
		kinds[want.Kind]++
		if got != want {
			t.Errorf("appeal %d %s (%s): local %v, redis %v", i, a.ID, a.Origin, got, want)
		}
	}
	t.Logf("%d appeals: %v", len(stream), kinds)
	if kinds[Voice] < 300 || kinds[ExactDuplicate] < 50 || kinds[Incident] < 1000 {
		t.Fatalf("the stream exercises too little: %v", kinds)
	}
}

// A fresh process rebuilds the state from ClickHouse: replays get their first decisions, retries are
// exact duplicates, new reports find their incidents, and a second rebuild replaces the state instead of
// adding to it.
func TestLocalRebuild(t *testing.T) {
	smallRebuildChunks(t)
	conn, _ := testenv.ClickHouse(t)
	ctx := testCtx(t)
	batch := mixedBatch()
	first := decide(t, ctx, newLocalDeduper(t), batch...)
	stored := storeAppeals(t, conn, batch, first)

	d := newLocalDeduper(t) // the process restarted: nothing in memory
	for range 2 {
		n, err := d.Rebuild(ctx, conn, t0.Add(-24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if n != stored || d.Size().IDs != stored {
			t.Fatalf("rebuilt %d rows into %d id claims, stored %d", n, d.Size().IDs, stored)
		}
	}
	again := decide(t, ctx, d, clone(batch)...)
	for i := range first {
		if first[i] != again[i] {
			t.Errorf("replay of %s: first %v, after rebuild %v", batch[i].ID, first[i], again[i])
		}
	}
	late := appealAt(model.SourceVK, "late-neighbour",
		"Во дворе Есенина 23 так и течёт вода из прорванной трубы, подвал затоплен, когда починят?", oktmoRyazan, t0.Add(5*time.Hour), 3, 1)
	if got := decide(t, ctx, d, late)[0]; got != (Decision{Voice, model.AppealID(model.SourcePOS, "bp0")}) {
		t.Errorf("new paraphrase of the burst pipe: %v, want a voice of pos:bp0", got)
	}
	retry := appealAt(model.SourceVK, "bg5", background[5], oktmoRyazan, t0, 3, 2)
	if got := decide(t, ctx, d, retry)[0]; got != (Decision{Kind: ExactDuplicate}) {
		t.Errorf("retry of a stored appeal from a new offset: %v, want an exact duplicate", got)
	}
	copyOf := appealAt(model.Source112, "copy", background[7], oktmoRyazan, t0.Add(time.Hour), 3, 3)
	if got := decide(t, ctx, d, copyOf)[0]; got.Kind != Voice {
		t.Errorf("the same text again through 112: %v, want a voice (its text claim was rebuilt)", got)
	}
}

// Entries last as long as Redis's keys would: id claims IDHorizon, buckets and text claims twice the
// horizon after their last write, on the deduper's clock; the sweep drops them.
func TestLocalHorizons(t *testing.T) {
	now := t0
	cfg := DefaultConfig()
	d, err := NewLocal(cfg, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	text := burstPipe[0]
	a := appealAt(model.SourceVK, "a", text, oktmoRyazan, t0, 0, 1)
	decide(t, ctx, d, a)

	steps := []struct {
		name  string
		after time.Duration // since t0 on the deduper's clock
		a     *model.Appeal
		want  Decision
	}{
		{"a retry while its claim lasts", 3 * 24 * time.Hour, appealAt(model.SourceVK, "a", text, oktmoRyazan, t0, 0, 2), Decision{Kind: ExactDuplicate}},
		{"a copy after its text claim expired", 4*24*time.Hour + time.Minute,
			appealAt(model.SourcePOS, "b", text, oktmoRyazan, t0.Add(time.Hour), 0, 3), Decision{Incident, "pos:b"}},
		{"a retry after its id claim expired", 31 * 24 * time.Hour, appealAt(model.SourceVK, "a", text, oktmoRyazan, t0, 0, 4), Decision{Incident, "vk:a"}},
	}
	for _, s := range steps {
		now = t0.Add(s.after)
		if got := decide(t, ctx, d, s.a)[0]; got != s.want {
			t.Fatalf("%s: %v, want %v", s.name, got, s.want)
		}
	}
	// pos:b's id claim (day 4) lasts to day 34; everything else of it and of vk:a's first claims is gone.
	if s := d.Size(); s.IDs != 2 || s.Members != 1 || s.Texts != 1 || s.Buckets != 1 {
		t.Fatalf("after the sweeps: %+v, want 2 id claims and the last appeal's member, text and bucket", s)
	}
}

// Batches of several partitions decide concurrently; every appeal gets one decision and each problem one
// incident (-race checks the locking).
func TestLocalConcurrentBatches(t *testing.T) {
	d := newLocalDeduper(t)
	ctx := testCtx(t)
	gen := newStreamGen(3)
	const parts, batches, size = 4, 25, 40
	all := make([][][]*model.Appeal, parts)
	for p := range all {
		for range batches {
			b := gen.batch(size)
			for i, a := range b {
				a.Origin.Partition, a.Origin.Offset = p, int64(i)
			}
			all[p] = append(all[p], b)
		}
	}
	errs := make(chan error, parts)
	for p := range parts {
		go func() {
			for _, b := range all[p] {
				if _, err := d.Decide(ctx, b); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range parts {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if s := d.Size(); s.IDs != parts*batches*size {
		t.Fatalf("%d id claims, want %d", s.IDs, parts*batches*size)
	}
}

// Compacting the id arena changes no decision: one deduper compacts at every sweep, the other never; halfway
// their clock jumps five days, so that the buckets and text claims of the first half expire (the id claims
// stay). Then every appeal is replayed on both.
func TestLocalCompactionKeepsDecisions(t *testing.T) {
	stream := differentialStream(t, 3000)
	now := t0
	clock := func() time.Time { return now }
	compacting, plain := newLocalWithClock(t, clock), newLocalWithClock(t, clock)
	ctx := testCtx(t)
	for i, a := range stream {
		if i%50 == 0 {
			now = now.Add(2 * time.Minute)
			if i == len(stream)/100*50 {
				now = now.Add(5 * 24 * time.Hour)
			}
			compacting.st.compactAt = 0 // the next sweep compacts
		}
		got, want := decide(t, ctx, compacting, cloneAppeal(a))[0], decide(t, ctx, plain, cloneAppeal(a))[0]
		if got != want {
			t.Fatalf("appeal %d %s: %v with compaction, %v without", i, a.ID, got, want)
		}
	}
	for i, a := range stream {
		got, want := decide(t, ctx, compacting, cloneAppeal(a))[0], decide(t, ctx, plain, cloneAppeal(a))[0]
		if got != want {
			t.Fatalf("replay of %d %s: %v with compaction, %v without", i, a.ID, got, want)
		}
	}
	if c, p := len(compacting.st.strs), len(plain.st.strs); c >= p {
		t.Fatalf("the compacted arena holds %d bytes, the other %d: the expired members' ids were kept", c, p)
	}
}

func newLocalWithClock(t *testing.T, now func() time.Time) *Local {
	t.Helper()
	d, err := NewLocal(DefaultConfig(), now)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// smallRebuildChunks makes a rebuild hand on its rows three at a time, so that a test's few rows go
// through many chunks, prepared concurrently and applied in their order.
func smallRebuildChunks(t *testing.T) {
	old := rebuildChunk
	rebuildChunk = 3
	t.Cleanup(func() { rebuildChunk = old })
}
