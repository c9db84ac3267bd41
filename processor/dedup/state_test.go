package dedup

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

func TestEnsureStateRebuildsOnlyWhenTheMarkerIsMissing(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	d, err := New(rdb, Config{KeyPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	rebuilt, _, err := d.EnsureState(ctx, conn, now)
	if err != nil || !rebuilt {
		t.Fatalf("first start: rebuilt=%v err=%v, want a rebuild", rebuilt, err)
	}
	rebuilt, _, err = d.EnsureState(ctx, conn, now)
	if err != nil || rebuilt {
		t.Fatalf("second start: rebuilt=%v err=%v, want none", rebuilt, err)
	}
	if err := rdb.Del(ctx, prefix+"dedup:{state}").Err(); err != nil { // Redis lost its data
		t.Fatal(err)
	}
	rebuilt, _, err = d.EnsureState(ctx, conn, now)
	if err != nil || !rebuilt {
		t.Fatalf("after the wipe: rebuilt=%v err=%v, want a rebuild", rebuilt, err)
	}
}

// Decisions made while Redis had lost the state must not be stored: after a wipe, and after another
// instance rebuilt the state (the marker is back, with a new value), StateIntact reports the loss to an
// instance that saw the old state; once it has run EnsureState again it may decide.
func TestStateIntactNoticesAWipeAndARebuild(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	a, _ := New(rdb, Config{KeyPrefix: prefix})
	b, _ := New(rdb, Config{KeyPrefix: prefix})
	ctx := context.Background()
	if _, _, err := a.EnsureState(ctx, conn, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.EnsureState(ctx, conn, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := a.StateIntact(ctx); err != nil {
		t.Fatalf("whole state reported lost: %v", err)
	}
	if err := rdb.Del(ctx, prefix+"dedup:{state}").Err(); err != nil { // Redis restarted without its data
		t.Fatal(err)
	}
	if err := a.StateIntact(ctx); !errors.Is(err, ErrStateLost) {
		t.Fatalf("after the wipe: %v, want ErrStateLost", err)
	}
	if rebuilt, _, err := b.EnsureState(ctx, conn, time.Now()); err != nil || !rebuilt { // b rebuilds first
		t.Fatalf("b: rebuilt=%v err=%v", rebuilt, err)
	}
	if err := a.StateIntact(ctx); !errors.Is(err, ErrStateLost) {
		t.Fatalf("after b's rebuild a must still learn of the loss: %v", err)
	}
	if rebuilt, _, err := a.EnsureState(ctx, conn, time.Now()); err != nil || rebuilt {
		t.Fatalf("a: rebuilt=%v err=%v, want it to adopt b's rebuild", rebuilt, err)
	}
	if err := a.StateIntact(ctx); err != nil {
		t.Fatalf("after adopting the rebuilt state: %v", err)
	}
}

// Decisions made on a wiped state write claims before StateIntact rejects their batch. The rebuild must
// not keep them: a claim kept for a client retry (a new origin of an appeal stored before the wipe) made
// the retry's replay "its own original", and the appeal was stored twice (make chaos, redis-wipe: one
// row more than the unique appeals in 2 of 12 runs). A paraphrase decided on the wiped state must be
// decided again on the rebuilt one too.
func TestRebuildDropsWhatWasDecidedOnTheLostState(t *testing.T) {
	d, conn, rdb, prefix := newStateTest(t)
	ctx := testCtx(t)
	if _, _, err := d.EnsureState(ctx, conn, t0); err != nil {
		t.Fatal(err)
	}
	batch := mixedBatch()
	first := decide(t, ctx, d, batch...)
	storeAppeals(t, conn, batch, first)

	if deleteKeys(t, rdb, prefix+"*") == 0 { // Redis restarted without its data
		t.Fatal("nothing to flush")
	}
	// After the wipe: a client retry of a stored appeal (same id, new offset) and a paraphrase of the
	// stored burst-pipe incident. Both are decided on the empty state, then the batch is rejected.
	retry := appealAt(model.SourceVK, "bg5", background[5], oktmoRyazan, t0, 3, 900)
	paraphrase := appealAt(model.SourceVK, "late-neighbour",
		"Во дворе Есенина 23 так и течёт вода из прорванной трубы, подвал затоплен, когда починят?", oktmoRyazan, t0.Add(5*time.Hour), 3, 901)
	lost := []*model.Appeal{retry, paraphrase}
	if _, err := d.Decide(ctx, clone(lost)); err != nil {
		t.Fatal(err)
	}
	if err := d.StateIntact(ctx); !errors.Is(err, ErrStateLost) {
		t.Fatalf("decisions on the wiped state: %v, want ErrStateLost", err)
	}
	if rebuilt, _, err := d.EnsureState(ctx, conn, t0); err != nil || !rebuilt {
		t.Fatalf("rebuilt=%v err=%v, want a rebuild", rebuilt, err)
	}
	again := decide(t, ctx, d, clone(lost)...)
	if err := d.StateIntact(ctx); err != nil {
		t.Fatal(err)
	}
	want := []Decision{{ExactDuplicate, ""}, {Voice, model.AppealID(model.SourcePOS, "bp0")}}
	for i := range want {
		if again[i] != want[i] {
			t.Errorf("%s replayed after the rebuild: %v, want %v", lost[i].ID, again[i], want[i])
		}
	}
	// The stored appeals replay as themselves.
	replay := decide(t, ctx, d, clone(batch)...)
	for i := range first {
		if first[i] != replay[i] {
			t.Errorf("replay of %s: first %v, after the rebuild %v", batch[i].ID, first[i], replay[i])
		}
	}
}

// Instances that find the state lost at once rebuild it once: one takes the lock and clears and rebuilds,
// the others wait for its marker and adopt it. A second rebuild clearing under the first would leave a
// state marked whole while it is being emptied.
func TestConcurrentEnsureStateRebuildsOnce(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	ctx := testCtx(t)
	const n = 6
	ds := make([]*Redis, n)
	for i := range ds {
		d, err := New(rdb, Config{KeyPrefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		ds[i] = d
	}
	rebuilt := make(chan bool, n)
	errs := make(chan error, n)
	for _, d := range ds {
		go func() {
			r, _, err := d.EnsureState(ctx, conn, t0)
			rebuilt <- r
			errs <- err
		}()
	}
	count := 0
	for range n {
		if <-rebuilt {
			count++
		}
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if count != 1 {
		t.Fatalf("%d instances rebuilt, want 1", count)
	}
	for i, d := range ds {
		if err := d.StateIntact(ctx); err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	if n, err := rdb.Exists(ctx, prefix+"dedup:{state}:rebuild").Result(); err != nil || n != 0 {
		t.Fatalf("rebuild lock left behind: %d, %v", n, err)
	}
}

// A rebuilder that lost its lock (paused past the TTL while another took over) must not mark the state
// whole: the other may be clearing it.
func TestRebuildWithoutTheLockIsNotMarkedWhole(t *testing.T) {
	d, conn, rdb, _ := newStateTest(t)
	ctx := testCtx(t)
	if err := rdb.Set(ctx, d.rebuildLock(), "another instance", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.rebuildLocked(ctx, conn, t0, "me"); err == nil {
		t.Fatal("a rebuild without the lock succeeded")
	}
	if n, err := rdb.Exists(ctx, d.marker()).Result(); err != nil || n != 0 {
		t.Fatalf("marker written without the lock: %d, %v", n, err)
	}
	if v, _ := rdb.Get(ctx, d.rebuildLock()).Result(); v != "another instance" {
		t.Fatalf("the other instance's lock became %q", v)
	}
}

// Clearing the lost state touches only this deployment's dedup keys, whatever its prefix holds.
func TestClearStateKeepsOtherKeys(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	ctx := testCtx(t)
	tests := []struct{ prefix, other string }{
		{prefix + "a*:", prefix + "ab:dedup:id:x"},
		{prefix + "[b]:", prefix + "b:dedup:id:x"},
		{prefix + "c?:", prefix + "cc:dedup:id:x"},
		{prefix + "d:", prefix + "d:sla:appeal:x"},
	}
	for _, tc := range tests {
		d, err := New(rdb, Config{KeyPrefix: tc.prefix})
		if err != nil {
			t.Fatal(err)
		}
		mine := tc.prefix + "dedup:id:x"
		if err := rdb.MSet(ctx, mine, 1, tc.other, 1).Err(); err != nil {
			t.Fatal(err)
		}
		n, err := d.clearState(ctx)
		if err != nil || n != 1 {
			t.Fatalf("prefix %q: cleared %d, %v; want 1", tc.prefix, n, err)
		}
		if got, _ := rdb.Exists(ctx, mine, tc.other).Result(); got != 1 || rdb.Exists(ctx, tc.other).Val() != 1 {
			t.Fatalf("prefix %q: %s should be gone and %s kept", tc.prefix, mine, tc.other)
		}
	}
}

// newStateTest is a deduper over the test Redis with its own prefix, and the test ClickHouse it rebuilds from.
func newStateTest(t *testing.T) (*Redis, driver.Conn, *redis.Client, string) {
	t.Helper()
	conn, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	d, err := New(rdb, Config{KeyPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return d, conn, rdb, prefix
}
