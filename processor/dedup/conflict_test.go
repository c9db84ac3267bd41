package dedup

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/teplokarta/teplokarta/internal/model"
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
