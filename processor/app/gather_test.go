package app_test

import (
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/app"
)

// With rounds gathering (--round-linger, a bigger budget), the counts stay exact in appeals and every
// rollup, and the engine's upstream count — what a round waits for — returns to zero once the backlog
// is stored: a leak would make every later round wait its full linger.
func TestGatheredRoundsMatchTruth(t *testing.T) {
	t.Parallel()
	b := testenv.Broker(t)
	conn, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	truth := simulate(t, b.Addr(), 17, 8000, time.Now().Add(-30*24*time.Hour).Truncate(time.Hour))

	o := app.DefaultOptions()
	o.Pipeline.Brokers, o.Pipeline.GroupID, o.Dedup.KeyPrefix = []string{b.Addr()}, "gather", prefix
	o.Pipeline.BatchSize, o.Pipeline.MaxInFlight = 1000, 8000
	o.Sink.RoundRows, o.Sink.RoundLinger = 4000, 200*time.Millisecond
	eng, err := app.Build(o, app.Clients{ClickHouse: conn, Redis: rdb})
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
