package dedup

import (
	"context"
	"hash/maphash"
	"slices"

	"golang.org/x/sync/semaphore"
)

// scopeTurns keeps one process from racing itself past its retries.
//
// A processor decides the batches of its partitions concurrently, and most of them hold appeals of the
// same busy municipality, so its own batches race as two instances do: one commits a band field another
// read as free, the other's commit check fails, and it reads, decides and commits again. That costs
// little (≈ 6 % of appeals, no more CPU per appeal), but an incident that lost CommitRetries rounds in a
// row used to be stored unchecked, and some of those were voices.
//
// So every batch holds a shared turn on its scopes (region:oktmo) from its first read to its last claim
// on them, which costs nothing while batches run side by side; and the last checked round of an
// incident that kept losing runs under an exclusive turn on its batch's scopes: it waits for the batches
// already holding them, later ones wait for it, and nothing in this process can claim a field between its
// read and its commit. Only another process can still make that round fail.
//
// Scopes map onto a fixed set of stripes (two scopes sharing one only wait for each other). Turns are
// taken in ascending stripe order and a batch gives back its shared turns before it asks for exclusive
// ones, so no two batches wait for each other in a cycle.
type scopeTurns struct {
	seed    maphash.Seed
	stripes [turnStripes]*semaphore.Weighted
}

const (
	// turnStripes: more than a region's municipalities (Ryazan has 29 and the unresolved scope), few
	// enough that a batch touching all of them takes its turns in microseconds.
	turnStripes = 64
	// exclusiveWeight is a stripe's whole capacity: more shared turns than batches can ever be in flight.
	exclusiveWeight = 1 << 30
)

func newScopeTurns() *scopeTurns {
	s := &scopeTurns{seed: maphash.MakeSeed()}
	for i := range s.stripes {
		s.stripes[i] = semaphore.NewWeighted(exclusiveWeight)
	}
	return s
}

// stripesOf returns, ascending and without repeats, the stripes of the scopes whose shared state the
// items read or claim: content-matched items only (the others touch nothing but their id claim, which
// only a replay of the same message in the same partition shares).
func (s *scopeTurns) stripesOf(items []*item) []int {
	var seen [turnStripes]bool
	var out []int
	for _, it := range items {
		if !it.lsh {
			continue
		}
		var h maphash.Hash
		h.SetSeed(s.seed)
		h.WriteString(it.a.Region)
		h.WriteByte(':')
		h.WriteString(it.a.OKTMO)
		i := int(h.Sum64() % turnStripes)
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

// turn is what one Decide holds.
type turn struct {
	s       *scopeTurns
	stripes []int
	weight  int64
}

// shared takes a shared turn on the items' scopes.
func (s *scopeTurns) shared(ctx context.Context, items []*item) (*turn, error) {
	t := &turn{s: s}
	return t, t.take(ctx, s.stripesOf(items), 1)
}

// exclusive gives back what t holds and takes an exclusive turn on the items' scopes.
func (t *turn) exclusive(ctx context.Context, items []*item) error {
	t.release()
	return t.take(ctx, t.s.stripesOf(items), exclusiveWeight)
}

// take waits for the stripes (ascending) with the given weight. If ctx ends first, what was taken is
// given back and ctx's error is returned.
func (t *turn) take(ctx context.Context, stripes []int, weight int64) error {
	t.weight = weight
	for n, i := range stripes {
		if err := t.s.stripes[i].Acquire(ctx, weight); err != nil {
			t.stripes = stripes[:n]
			t.release()
			return err
		}
	}
	t.stripes = stripes
	return nil
}

// release gives back everything t holds; it may be called again.
func (t *turn) release() {
	for _, i := range t.stripes {
		t.s.stripes[i].Release(t.weight)
	}
	t.stripes = nil
}
