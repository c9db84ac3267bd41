package sink_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/sink"
)

// heldGate holds the first round at its gate until released, and then fails it or lets it in; later
// rounds go in at once. Batches submitted meanwhile queue behind the held round.
type heldGate struct {
	entered chan struct{}
	release chan error
	calls   int
}

func newHeldGate() *heldGate {
	return &heldGate{entered: make(chan struct{}, 1), release: make(chan error, 1)}
}

func (g *heldGate) Enter(ctx context.Context) (func(), error) {
	g.calls++ // rounds are led one at a time
	if g.calls == 1 {
		g.entered <- struct{}{}
		if err := <-g.release; err != nil {
			return nil, err
		}
	}
	return func() {}, nil
}

// A lane's batches land in submission order even when a later batch shares a month with an earlier
// batch's first run: the earlier batch's later month must not be overtaken, or a crash between the two
// INSERTs would leave a gap below the highest stored offset, where the partition resumes.
func TestLaneKeepsOrderAcrossMonths(t *testing.T) {
	conn := migrated(t)
	ctx := context.Background()
	g := newHeldGate()
	s := sink.New(conn, sink.Config{Gate: g}, nil)
	topic := model.RawTopic(model.SourceVK)
	jan := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	first := rows(topic, 0, 0, 10) // offsets 0–4 in January, 5–9 in February
	for i, a := range first {
		a.EventTime = jan.Add(time.Duration(i/5) * 48 * time.Hour)
	}
	second := rows(topic, 0, 10, 5) // January again: late appeals
	for _, a := range second {
		a.EventTime = jan
	}
	opener := s.NewLane().Submit(ctx, sink.NewBlock(rows(model.RawTopic(model.SourcePOS), 0, 0, 1))) // holds the gate
	done := make(chan error, 1)
	go func() { done <- opener.Wait() }()
	<-g.entered
	lane := s.NewLane()
	p1, p2 := lane.Submit(ctx, sink.NewBlock(first)), lane.Submit(ctx, sink.NewBlock(second))
	g.release <- nil
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(p1.Wait(), p2.Wait()); err != nil {
		t.Fatal(err)
	}
	// Each INSERT has its own version: by offset, versions must never go back.
	r, err := conn.Query(ctx, `SELECT kafka_offset, version FROM appeals WHERE kafka_topic = ? ORDER BY kafka_offset`, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var prev uint64
	var n int
	inserts := map[uint64]bool{}
	for r.Next() {
		var off int64
		var v uint64
		if err := r.Scan(&off, &v); err != nil {
			t.Fatal(err)
		}
		if v < prev {
			t.Errorf("offset %d went in before an earlier offset (version %d < %d)", off, v, prev)
		}
		prev, n = v, n+1
		inserts[v] = true
	}
	if n != 15 || len(inserts) != 3 {
		t.Errorf("stored %d rows in %d INSERTs, want 15 in 3 (January, February, January)", n, len(inserts))
	}
}

// Once a lane's batch fails, its later batches — queued behind it or submitted after — fail too and
// store nothing, while other lanes go on.
func TestLaneRefusesBatchesAfterAFailedOne(t *testing.T) {
	conn := migrated(t)
	ctx := context.Background()
	g := newHeldGate()
	s := sink.New(conn, sink.Config{Gate: g}, nil)
	vk, pos := model.RawTopic(model.SourceVK), model.RawTopic(model.SourcePOS)
	a, b := s.NewLane(), s.NewLane()
	failed := a.Submit(ctx, sink.NewBlock(rows(vk, 0, 0, 10)))
	done := make(chan error, 1)
	go func() { done <- failed.Wait() }()
	<-g.entered
	queued := a.Submit(ctx, sink.NewBlock(rows(vk, 0, 10, 10)))
	other := b.Submit(ctx, sink.NewBlock(rows(pos, 0, 0, 10)))
	boom := errors.New("injected: the round's gate failed")
	g.release <- boom
	if err := <-done; !errors.Is(err, boom) {
		t.Fatalf("first batch: %v, want the injected failure", err)
	}
	if err := queued.Wait(); !errors.Is(err, sink.ErrEarlierBatchFailed) || !errors.Is(err, boom) {
		t.Errorf("batch queued behind the failed one: %v, want ErrEarlierBatchFailed wrapping the failure", err)
	}
	if err := a.Submit(ctx, sink.NewBlock(rows(vk, 0, 20, 10))).Wait(); !errors.Is(err, sink.ErrEarlierBatchFailed) {
		t.Errorf("batch submitted after the failure: %v, want ErrEarlierBatchFailed", err)
	}
	if err := other.Wait(); err != nil {
		t.Fatalf("another lane's batch: %v", err)
	}
	if n := count(t, conn, "SELECT count() FROM appeals WHERE kafka_topic = ?", vk); n != 0 {
		t.Errorf("%d rows of the failed lane stored, want 0", n)
	}
	if n := count(t, conn, "SELECT count() FROM appeals WHERE kafka_topic = ?", pos); n != 10 {
		t.Errorf("%d rows of the other lane stored, want 10", n)
	}
	// A new lane of the same partition (its next owner, or this instance after rejoining) is not refused.
	if err := s.NewLane().Submit(ctx, sink.NewBlock(rows(vk, 0, 0, 10))).Wait(); err != nil {
		t.Errorf("a new lane of the partition: %v", err)
	}
}

// Rounds go on while a submitter is busy elsewhere and has not come to wait for its batch yet (a
// partition's committer sending status events): no batch waits for another caller to lead.
func TestRoundsDoNotWaitForABusySubmitter(t *testing.T) {
	conn := migrated(t)
	ctx := context.Background()
	s := sink.New(conn, sink.Config{}, nil)
	busy := s.NewLane().Submit(ctx, sink.NewBlock(rows(model.RawTopic(model.SourceVK), 0, 0, 10))) // not waited for yet
	other := make(chan error, 1)
	go func() {
		other <- s.NewLane().Submit(ctx, sink.NewBlock(rows(model.RawTopic(model.SourcePOS), 0, 0, 10))).Wait()
	}()
	select {
	case err := <-other:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a batch still waits after 30 s for a submitter that has not waited for its own")
	}
	if err := busy.Wait(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, conn, "SELECT count() FROM appeals"); n != 20 {
		t.Errorf("stored %d rows, want 20", n)
	}
}
