package sink_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/sink"
)

// A round waits for batches still on their way, so partitions finishing one after the other share one
// INSERT (one version in appeals); with nothing upstream, less than a round's backlog in Kafka, or the
// wait off, a batch goes at once, and the wait is bounded by RoundLinger.
func TestRoundGathersBatchesOnTheirWay(t *testing.T) {
	tests := []struct {
		name        string
		upstream    int64 // what Upstream reports while the first batch waits
		roundRows   int
		linger      time.Duration
		concurrent  bool  // the second batch is written while the first waits
		backlog     int64 // what Backlog reports; -1: no Backlog
		wantInserts uint64
	}{
		{"waits until the round's rows are queued", 1, 20, time.Minute, true, -1, 1},
		{"nothing upstream: no wait", 0, 20, time.Minute, false, -1, 2},
		{"waiting off", 1, 20, 0, false, -1, 2},
		{"a negative wait is off too", 1, 20, -time.Second, false, -1, 2},
		{"the wait is bounded", 1, 1000, 200 * time.Millisecond, false, -1, 2},
		{"a backlog being replayed: waits, even with nothing upstream", 0, 20, time.Minute, true, 20, 1},
		{"live traffic (backlog below a round): no wait", 1, 20, time.Minute, false, 19, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn := migrated(t)
			ctx := context.Background()
			var up atomic.Int64
			up.Store(tc.upstream)
			cfg := sink.Config{RoundRows: tc.roundRows, RoundLinger: tc.linger, Upstream: func() int { return int(up.Load()) }}
			if tc.backlog >= 0 {
				cfg.Backlog = func() int { return int(tc.backlog) }
			}
			s := sink.New(conn, cfg, nil)
			topic := model.RawTopic(model.SourceVK)
			first := make(chan error, 1)
			began := time.Now()
			go func() { first <- s.Write(ctx, rows(topic, 0, 720, 10)) }()
			if tc.concurrent {
				// Had the first batch gone alone, its INSERT is over by now and the second makes another.
				// The engine counts a batch upstream until it is handed over; clearing the count before the
				// second batch is queued would let the waiting round go alone, so queue it first.
				time.Sleep(200 * time.Millisecond)
				second := s.NewLane().Submit(ctx, sink.NewBlock(rows(topic, 1, 720, 10)))
				up.Store(0)
				if err := second.Wait(); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case err := <-first:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("the first batch still waits after 30 s (linger %s, upstream %d)", tc.linger, tc.upstream)
			}
			if !tc.concurrent {
				if took := time.Since(began); tc.linger > 0 && tc.linger < time.Second && took < tc.linger {
					t.Errorf("the first batch went after %s, before the linger (%s) with something upstream", took, tc.linger)
				}
				if err := s.Write(ctx, rows(topic, 1, 720, 10)); err != nil {
					t.Fatal(err)
				}
			}
			if n := count(t, conn, "SELECT count() FROM appeals"); n != 20 {
				t.Fatalf("stored %d rows, want 20", n)
			}
			if n := count(t, conn, "SELECT uniqExact(version) FROM appeals"); n != tc.wantInserts {
				t.Errorf("rows went in %d INSERTs, want %d", n, tc.wantInserts)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  sink.Config
		ok   bool
	}{
		{"zero: defaults", sink.Config{}, true},
		{"gathering", sink.Config{RoundRows: 20000, RoundLinger: 150 * time.Millisecond}, true},
		{"negative rows", sink.Config{RoundRows: -1}, false},
		{"negative block", sink.Config{BlockRows: -5}, false},
		{"a linger past a batch's stop timeout", sink.Config{RoundLinger: 2 * time.Minute}, false},
	}
	for _, tc := range tests {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
