package dedup

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

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
	smallRebuildChunks(t)
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
		n, err := d.Resume(ctx, conn, gen, parts, 2)
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
	// Partitions as the writer's murmur2 makes them with 2: Ryazan's and Sasovo's scopes go to 0, 61658000's to 1.
	p1 := onPartition([]*model.Appeal{appealAt(model.SourceVK, "s1", burstPipe[2], oktmoPartition1Of2, t0, 0, 0)}, 1, 7)
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

// oktmoPartition1Of2 is a municipality whose scope goes to partition 1 of 2.
const oktmoPartition1Of2 = "61658000"

// The topic grew from 2 partitions to 7 (--enriched-partitions raised): scopes now go elsewhere. A
// partition the instance held keeps no state it built under the old count; each one is rebuilt with
// the stored rows of the scopes that go to it now, wherever those were stored, so a retry of an appeal
// stored before is still an exact duplicate on its scope's new partition and a paraphrase still finds
// its incident. A record produced under the old count is misplaced (the processor forwards it).
func TestPartitionedResumeAfterTheTopicGrew(t *testing.T) {
	smallRebuildChunks(t)
	conn, _ := testenv.ClickHouse(t)
	ctx := testCtx(t)
	d, err := NewPartitioned(DefaultConfig(), model.TopicEnriched, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Resume(ctx, conn, 1, []int{0, 1}, 2); err != nil {
		t.Fatal(err)
	}
	p0 := onPartition(mixedBatch(), 0, 100) // Ryazan and Sasovo: partition 0 of 2
	stored := storeAppeals(t, conn, p0, decide(t, ctx, d, p0...))
	p1 := onPartition([]*model.Appeal{appealAt(model.SourceVK, "s1", burstPipe[2], oktmoPartition1Of2, t0, 0, 0)}, 1, 7)
	stored += storeAppeals(t, conn, p1, decide(t, ctx, d, p1...))

	const total = 7
	all := allPartitions(total)
	ryazan := partitionOf([]byte(model.Scope(model.DefaultRegion, oktmoRyazan)), all)
	if ryazan == 0 {
		t.Fatal("Ryazan's scope stays on partition 0 with 7: the test would show nothing")
	}
	key := []byte(model.Scope(model.DefaultRegion, oktmoRyazan))
	if d.Misplaced(key, 0) || !d.Misplaced(key, ryazan) {
		t.Fatal("with 2 partitions, Ryazan's records belong on partition 0")
	}
	n, err := d.Resume(ctx, conn, 2, all, total)
	if err != nil {
		t.Fatal(err)
	}
	if n != stored || d.Size().IDs != stored {
		t.Fatalf("resumed on 7 partitions: %d rows read, %d id claims, want all %d stored (none kept from the old count)", n, d.Size().IDs, stored)
	}
	if !d.Misplaced(key, 0) || d.Misplaced(key, ryazan) {
		t.Fatalf("with 7 partitions, Ryazan's records belong on partition %d", ryazan)
	}
	late := onPartition([]*model.Appeal{
		appealAt(model.SourcePOS, "bp0", burstPipe[0], oktmoRyazan, t0, 0, 0), // a retry, after the growth
		appealAt(model.SourceVK, "late-neighbour",
			"Во дворе Есенина 23 так и течёт вода из прорванной трубы, подвал затоплен, когда починят?", oktmoRyazan, t0.Add(5*time.Hour), 0, 0),
	}, ryazan, 10)
	got := decide(t, ctx, d, late...)
	if got[0] != (Decision{Kind: ExactDuplicate}) || got[1] != (Decision{Voice, model.AppealID(model.SourcePOS, "bp0")}) {
		t.Fatalf("after the growth: %v, want [exact duplicate, voice of pos:bp0]", got)
	}

	// Another instance handed Ryazan's partition alone reads only the rows of the scopes that go there.
	other, err := NewPartitioned(DefaultConfig(), model.TopicEnriched, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, a := range slices.Concat(p0, p1) {
		if partitionOf([]byte(model.Scope(a.Region, a.OKTMO)), all) == ryazan {
			want++
		}
	}
	want-- // the batch's retry of bg3 was not stored
	if n, err := other.Resume(ctx, conn, 2, []int{ryazan}, total); err != nil || n != want {
		t.Fatalf("partition %d alone: %d rows (%v), want %d", ryazan, n, err, want)
	}
}

// A database that ran with the state in Redis (or in one process) holds rows stored straight from the raw
// topics. A partition's rebuild restores those whose scope the first stage produces to it, so a later
// retry of one is still an exact duplicate and a paraphrase still finds its incident; the other
// partitions get none of them.
func TestPartitionedRebuildTakesRowsStoredFromRawTopics(t *testing.T) {
	smallRebuildChunks(t)
	conn, _ := testenv.ClickHouse(t)
	ctx := testCtx(t)
	raw := mixedBatch() // origins on appeals.raw.*, as --dedup-state redis stores them
	rd, _, _ := newTestDeduper(t)
	stored := storeAppeals(t, conn, raw, decide(t, ctx, rd, raw...))
	const total = 4
	partitionOf := func(oktmo string) int {
		return kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: []byte(model.Scope(model.DefaultRegion, oktmo))}, 0, 1, 2, 3)
	}
	own := partitionOf(oktmoRyazan)
	want := map[int]int{} // stored rows by the partition their scope goes to
	seen := map[string]bool{}
	for _, a := range raw {
		if !seen[a.ID] { // the batch's retry of bg3 was not stored
			seen[a.ID] = true
			want[partitionOf(a.OKTMO)]++
		}
	}
	if len(seen) != stored {
		t.Fatalf("stored %d rows of %d ids", stored, len(seen))
	}
	for p := range total {
		d, err := NewPartitioned(DefaultConfig(), model.TopicEnriched, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Resume(ctx, conn, 1, []int{p}, total); err != nil {
			t.Fatal(err)
		}
		if got := d.Size().IDs; got != want[p] {
			t.Fatalf("partition %d: %d id claims restored, want the %d stored appeals of its scopes", p, got, want[p])
		}
	}
	d, err := NewPartitioned(DefaultConfig(), model.TopicEnriched, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Resume(ctx, conn, 1, []int{own}, total); err != nil {
		t.Fatal(err)
	}
	late := onPartition([]*model.Appeal{
		appealAt(model.SourceVK, "bg5", background[5], oktmoRyazan, t0, 0, 0), // a retry after the switch
		appealAt(model.SourceVK, "late-neighbour",
			"Во дворе Есенина 23 так и течёт вода из прорванной трубы, подвал затоплен, когда починят?", oktmoRyazan, t0.Add(5*time.Hour), 0, 0),
	}, own, 10)
	got := decide(t, ctx, d, late...)
	if got[0] != (Decision{Kind: ExactDuplicate}) || got[1] != (Decision{Voice, model.AppealID(model.SourcePOS, "bp0")}) {
		t.Fatalf("after the switch: %v, want [exact duplicate, voice of pos:bp0]", got)
	}
}
