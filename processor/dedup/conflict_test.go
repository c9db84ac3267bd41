package dedup

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// One instance alone has nobody to race with: every incident's commit check must pass the first time.
// (A check that waits for an in-batch voice, which is committed only after the incidents, used to fail
// every round until the retries ran out and the incident was stored unchecked.)
func TestSingleInstanceNeverConflicts(t *testing.T) {
	d, _, _ := newTestDeduper(t)
	ctx := testCtx(t)
	g := newStreamGen(7)
	for range 6 {
		batch := make([]*model.Appeal, 500)
		for i := range batch {
			batch[i] = g.next()
		}
		decide(t, ctx, d, batch...)
	}
	if n := testutil.ToFloat64(d.m.conflicts); n != 0 {
		t.Fatalf("%v incident claims conflicted with no other instance running", n)
	}
}

// One instance deciding its partitions' batches concurrently races itself, but must never run out of
// retries: the last checked round takes an exclusive turn on its scopes (scopeTurns), so nothing in the
// process can claim a field between its read and its commit. With one retry, so that rounds run out
// often, four goroutines deciding the synthetic stream stored 78–207 of its 10,000 appeals unchecked in
// each of three runs without the exclusive round.
func TestOneInstanceNeverRunsOutOfRetries(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	cfg := DefaultConfig()
	cfg.KeyPrefix, cfg.CommitRetries = prefix, 1
	d, err := New(rdb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	gen := newStreamGen(3)
	batches := make([][]*model.Appeal, 40)
	for i := range batches {
		batches[i] = gen.batch(250)
	}
	if err := decideConcurrently(testCtx(t), d, 4, batches); err != nil {
		t.Fatal(err)
	}
	t.Logf("claim conflicts re-decided: %v", counterValue(d.m.conflicts))
	if n := counterValue(d.m.forced); n != 0 {
		t.Errorf("%v incidents stored unchecked with no other instance running", n)
	}
}
