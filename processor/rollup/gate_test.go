package rollup_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/rollup"
)

func TestGateKeepsWritersAndRepairsApart(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gate := func(owner string) *rollup.Gate {
		g, err := rollup.NewGate(rdb, rollup.GateConfig{KeyPrefix: prefix, Owner: owner, Lease: time.Second, Hold: time.Second, Poll: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	writer, repairer := gate("writer"), gate("repairer")

	release, err := writer.Enter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var closedAt, releasedAt atomic.Int64
	closed := make(chan func())
	go func() {
		open, err := repairer.Close(ctx)
		if err != nil {
			t.Error(err)
		}
		closedAt.Store(time.Now().UnixNano())
		closed <- open
	}()
	time.Sleep(2500 * time.Millisecond) // longer than the lease: the writer's renewals must keep it
	releasedAt.Store(time.Now().UnixNano())
	release()
	open := <-closed
	if closedAt.Load() < releasedAt.Load() {
		t.Fatal("the repair went in while a writer held its lease")
	}
	entered := make(chan time.Time)
	go func() {
		rel, err := writer.Enter(ctx)
		if err != nil {
			t.Error(err)
		}
		entered <- time.Now()
		rel()
	}()
	select {
	case <-entered:
		t.Fatal("a writer entered while the gate was closed")
	case <-time.After(300 * time.Millisecond):
	}
	openedAt := time.Now()
	open()
	if at := <-entered; at.Before(openedAt) {
		t.Fatal("the writer entered before the gate opened")
	}

	// A writer that died holding a lease (its renewals stopped with it) keeps repairs out only until the
	// lease ends: here a lease that ends in 700 ms, as a killed process leaves it.
	if err := rdb.ZAdd(ctx, prefix+"{rollup}:writers", redis.Z{Score: float64(time.Now().Add(700 * time.Millisecond).UnixMilli()), Member: "dead/1"}).Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	open2, err := repairer.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	open2()
	if waited := time.Since(start); waited < 500*time.Millisecond {
		t.Fatalf("the repair went in after %s, while the dead writer's lease still ran", waited)
	}
}
