package sink

import (
	"context"
	"errors"
	"fmt"
)

// Lane is one writer's ordered stream of batches: one partition for as long as one owner holds it. A
// partition goes on with its next batch while the last one waits for its INSERT (rows carried across a
// partition's batches), so rounds grow with what all partitions bring during an INSERT, not with one
// batch each. The order the exactness argument rests on is kept by the sink instead of by the caller:
// a lane's batches land in submission order, in one INSERT or in rounds one after the other, and once one
// of them fails none after it lands (the partition's next owner resumes after the last row stored).
type Lane interface {
	// Submit queues a batch (consecutive appeals of the lane's partition, after the lane's earlier ones)
	// and returns at once. The sink answers every Pending whether or not anyone waits for it.
	Submit(ctx context.Context, batch *Block) Pending
}

// Pending is a submitted batch.
type Pending interface {
	// Wait returns once the batch is stored, or with its error; a batch after a failed one of its lane
	// fails with ErrEarlierBatchFailed.
	Wait() error
}

// ErrEarlierBatchFailed refuses a batch whose lane lost an earlier batch: storing it would leave a gap
// below the partition's highest stored offset, which is where its next owner resumes.
var ErrEarlierBatchFailed = errors.New("sink: an earlier batch of this partition was not stored")

// lane is the ClickHouse sink's Lane. failed is guarded by the sink's mu.
type lane struct {
	s      *ClickHouse
	failed error
}

// NewLane starts a lane, one per partition ownership.
func (s *ClickHouse) NewLane() Lane { return &lane{s: s} }

// Submit implements Lane.
func (l *lane) Submit(ctx context.Context, batch *Block) Pending {
	s := l.s
	r := &request{ctx: ctx, block: batch, lane: l, done: make(chan error, 1)}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case l.failed != nil:
		r.done <- fmt.Errorf("%w: %w", ErrEarlierBatchFailed, l.failed)
	case batch.Len() == 0:
		r.done <- nil
	default:
		s.queue = append(s.queue, r)
		if !s.busy {
			s.busy = true
			// A goroutine of its own leads the rounds: a caller may be busy elsewhere (a partition's
			// committer sending status events) while rows of every partition wait for the next round.
			go s.leadRounds()
		}
	}
	return ticket{r: r}
}

type ticket struct{ r *request }

// Wait implements Pending.
func (t ticket) Wait() error { return <-t.r.done }

// refuseFailedLocked answers the queued batches of lanes that lost a batch, so they never land. s.mu is
// held.
func (s *ClickHouse) refuseFailedLocked() {
	kept := s.queue[:0]
	for _, r := range s.queue {
		if r.lane.failed != nil {
			r.done <- fmt.Errorf("%w: %w", ErrEarlierBatchFailed, r.lane.failed)
			continue
		}
		kept = append(kept, r)
	}
	clear(s.queue[len(kept):])
	s.queue = kept
}
