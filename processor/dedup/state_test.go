package dedup

import (
	"context"
	"errors"
	"testing"
	"time"

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
	if err := rdb.Del(ctx, prefix+"dedup:state").Err(); err != nil { // Redis lost its data
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
	if err := rdb.Del(ctx, prefix+"dedup:state").Err(); err != nil { // Redis restarted without its data
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
