package app_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/teplokarta/teplokarta/processor/app"
)

// With rounds gathering (--round-linger, a bigger budget), the counts stay exact in appeals and every
// rollup, and the engine's upstream count — what a round waits for — returns to zero once the backlog
// is stored: a leak would make every later round wait its full linger.
func TestGatheredRoundsMatchTruth(t *testing.T) {
	t.Parallel()
	bl := newBacklog(t, 17, 8000, "gather")
	conn, truth, o := bl.conn, bl.truth, bl.opts
	o.Pipeline.BatchSize, o.Pipeline.MaxInFlight = 1000, 8000
	o.Sink.RoundRows, o.Sink.RoundLinger = 4000, 200*time.Millisecond
	eng, err := app.Build(o, app.Clients{ClickHouse: conn, Redis: bl.rdb})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(eng)
	waitRows(t, conn, truth.Appeals, 3*time.Minute)
	deadline := time.Now().Add(10 * time.Second)
	for eng.Upstream() != 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := eng.Upstream(); n != 0 {
		t.Errorf("%d records still counted upstream of the sink with the backlog stored", n)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	compareWithTruth(t, conn, truth)
}

// A partition goes on with its next batches while the last waits for its INSERT, and the rows still
// come out exact. Carried batches must actually share rounds with their partition's earlier ones (the
// sink counts them), and none may with carrying off; every row handed to the sink leaves its budget.
func TestCarriedBatchesMatchTruth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		carry int
	}{{"carried", 4}, {"each batch waits", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bl := newBacklog(t, 23, 8000, "carry")
			conn, truth, o := bl.conn, bl.truth, bl.opts
			o.Pipeline.BatchSize, o.Pipeline.MaxInFlight, o.Pipeline.FlushInterval = 200, 1000, 20*time.Millisecond
			o.Pipeline.CarryBatches, o.Pipeline.MaxUnstored = tc.carry, 6000
			// A round waits up to 2 s for 4,000 rows (20 batches) while the backlog is larger: 16 partitions
			// cannot hand 20 batches without some partition carrying a second one into it.
			o.Sink.RoundRows, o.Sink.RoundLinger = 4000, 2*time.Second
			reg := prometheus.NewRegistry()
			eng, err := app.Build(o, app.Clients{ClickHouse: conn, Redis: bl.rdb, Registerer: reg})
			if err != nil {
				t.Fatal(err)
			}
			stop := run(eng)
			waitRows(t, conn, truth.Appeals, 3*time.Minute)
			deadline := time.Now().Add(10 * time.Second)
			for metricSum(t, reg, "teplokarta_processor_unstored_rows") != 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if n := metricSum(t, reg, "teplokarta_processor_unstored_rows"); n != 0 {
				t.Errorf("%v rows still counted as handed to the sink and not stored, with the backlog stored", n)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			carried := metricSum(t, reg, "teplokarta_sink_carried_batches_total")
			if tc.carry > 0 && carried == 0 {
				t.Error("no batch shared a round with an earlier batch of its partition: nothing was carried")
			}
			if tc.carry == 0 && carried != 0 {
				t.Errorf("%v batches shared a round with an earlier one of their partition with carrying off", carried)
			}
			t.Logf("batches carried into a round with an earlier one of their partition: %v", carried)
			compareWithTruth(t, conn, truth)
		})
	}
}

// metricSum adds up a counter's or gauge's values over its labels.
func metricSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	return labelledSum(t, reg, name, "", "")
}

// A round waits for a backlog only while some partition can still bring rows. Here every partition can
// carry one batch (two in all: 500 rows, 8,000 over the 16 partitions), fewer than a round's 12,000: once
// all of them wait for the round, nothing more can come, and a round that waited for the backlog anyway
// would sit out its whole 30 s linger (as every round did behind appeals.enriched's busiest partition).
// A round that gathers rows still coming may wait a while on a loaded machine, but not 15 s: 48 batches.
func TestRoundsDoNotWaitForPartitionsTheyHold(t *testing.T) {
	t.Parallel()
	bl := newBacklog(t, 29, 20000, "held")
	conn, truth, o := bl.conn, bl.truth, bl.opts
	o.Pipeline.BatchSize, o.Pipeline.CarryBatches, o.Pipeline.MaxUnstored = 250, 1, 12500
	o.Sink.RoundRows, o.Sink.RoundLinger = 12000, 30*time.Second
	reg := prometheus.NewRegistry()
	eng, err := app.Build(o, app.Clients{ClickHouse: conn, Redis: bl.rdb, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(eng)
	waitRows(t, conn, truth.Appeals, 3*time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	compareWithTruth(t, conn, truth)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "teplokarta_sink_gather_seconds" {
			continue
		}
		h := f.GetMetric()[0].GetHistogram()
		within := uint64(0)
		for _, b := range h.GetBucket() {
			if b.GetUpperBound() == 15 {
				within = b.GetCumulativeCount()
			}
		}
		if long := h.GetSampleCount() - within; long > 0 || h.GetSampleCount() == 0 {
			t.Fatalf("%d of %d rounds waited more than 15 s for rows no partition could bring", long, h.GetSampleCount())
		}
		t.Logf("%d rounds, %.1f s of waiting in all", h.GetSampleCount(), h.GetSampleSum())
		return
	}
	t.Fatal("no teplokarta_sink_gather_seconds")
}
