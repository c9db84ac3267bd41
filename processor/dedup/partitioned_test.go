package dedup

import (
	"errors"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// onPartition moves appeals onto a partition of the enriched topic, as the second stage reads them.
func onPartition(batch []*model.Appeal, p int, first int64) []*model.Appeal {
	for i, a := range batch {
		a.Origin = model.Offset{Topic: model.TopicEnriched, Partition: p, Offset: first + int64(i)}
	}
	return batch
}

// A partition keeps its state while its instance holds it from one generation to the next, and is rebuilt
// from ClickHouse when it arrives from elsewhere or after a generation the instance missed; batches of a
// partition it does not hold are refused.
func TestPartitionedResume(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx := testCtx(t)
	newPartitioned := func() *Partitioned {
		d, err := NewPartitioned(DefaultConfig(), model.TopicEnriched, nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	resume := func(d *Partitioned, gen int32, parts []int, wantRows int) {
		t.Helper()
		n, err := d.Resume(ctx, conn, gen, parts)
		if err != nil {
			t.Fatal(err)
		}
		if n != wantRows {
			t.Fatalf("generation %d %v: read %d rows, want %d", gen, parts, n, wantRows)
		}
	}
	a := newPartitioned()
	resume(a, 1, []int{0, 1}, 0)
	p0 := onPartition(mixedBatch(), 0, 100)
	first := decide(t, ctx, a, p0...)
	stored0 := storeAppeals(t, conn, p0, first)
	p1 := onPartition([]*model.Appeal{appealAt(model.SourceVK, "s1", burstPipe[2], oktmoSasovo, t0, 0, 0)}, 1, 7)
	stored1 := storeAppeals(t, conn, p1, decide(t, ctx, a, p1...))

	resume(a, 2, []int{0, 1}, 0) // held in the generation before: nothing to read

	b := newPartitioned()
	resume(b, 3, []int{0}, stored0) // partition 0 moves to b, which reads its rows
	resume(a, 3, []int{1}, 0)
	if _, err := a.Decide(ctx, onPartition(clone(p0[:1]), 0, 100)); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("a batch of a partition given away: %v, want ErrNotHeld", err)
	}
	again := decide(t, ctx, b, onPartition(clone(p0), 0, 100)...)
	for i := range first {
		if again[i] != first[i] {
			t.Errorf("replay of %s on the new owner: %v, first %v", p0[i].ID, again[i], first[i])
		}
	}
	late := onPartition([]*model.Appeal{
		appealAt(model.SourcePOS, "bp0", burstPipe[0], oktmoRyazan, t0, 0, 0), // the first stage produced it again
		appealAt(model.SourceVK, "late-neighbour",
			"Во дворе Есенина 23 так и течёт вода из прорванной трубы, подвал затоплен, когда починят?", oktmoRyazan, t0.Add(5*time.Hour), 0, 0),
	}, 0, 200)
	got := decide(t, ctx, b, late...)
	if got[0] != (Decision{Kind: ExactDuplicate}) || got[1] != (Decision{Voice, model.AppealID(model.SourcePOS, "bp0")}) {
		t.Fatalf("after the move: %v, want [exact duplicate, voice of pos:bp0]", got)
	}

	resume(a, 5, []int{1}, stored1) // a missed generation 4: partition 1 may have been elsewhere
	if _, err := a.Decide(ctx, append(onPartition(clone(p1), 1, 8), onPartition(clone(p0[:1]), 0, 9)...)); err == nil {
		t.Fatal("a batch mixing partitions was decided")
	}
}
