package pipeline_test

import (
	"bytes"
	"context"
	"hash/fnv"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/ingest/ingesttest"
	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/normalize"
	"github.com/teplokarta/teplokarta/processor/pii"
	"github.com/teplokarta/teplokarta/processor/pipeline"
)

// placeByID stands in for the enrich stage (tested on its own): it spreads appeals over three scopes by
// their id, so that every batch is produced to several partitions of appeals.enriched.
type placeByID struct{}

func (placeByID) Enrich(a *model.Appeal) {
	h := fnv.New32a()
	h.Write([]byte(a.ID))
	a.OKTMO = [...]string{"61701000", "61610000", "61626000"}[h.Sum32()%3]
}

// The first stage lays each batch's enriched records out in buffers it uses again for later batches. Over
// many small batches with dead letters among them, every raw record must come out once: as the enriched
// record its own appeal encodes to, under its scope's key, or as a dead letter. A buffer used again while
// the writer still held its records would give records of one batch the bytes of the next.
func TestRekeyedRecordsAreTheirOwnAppeals(t *testing.T) {
	t.Parallel()
	b := testenv.Broker(t)
	brokers := []string{b.Addr()}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if err := kafkax.EnsureTopics(ctx, brokers, kafkax.Security{}, 6, model.TopicEnriched); err != nil {
		t.Fatal(err)
	}
	cfg := simulator.DefaultConfig()
	cfg.Seed, cfg.Start = 5, time.Now().Add(-24*time.Hour).Truncate(time.Hour)
	g, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var raw []kafka.Message
	for i := range 3000 {
		m := simulator.RawRecord(g.Next())
		if i%37 == 0 { // a sender's bug: the record is not its source's JSON
			m.Value = append([]byte("{not json "), m.Value...)
		}
		raw = append(raw, m)
	}
	pc := kafkax.DefaultProducerConfig()
	pc.Brokers = brokers
	w, err := kafkax.NewWriter(pc)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.WriteMessages(ctx, raw...); err != nil {
		t.Fatal(err)
	}

	norm := normalize.New(sources.Default("rekey-test-key", sources.DefaultLimits()), pii.New(), time.Now)
	rc := pipeline.DefaultRekeyConfig()
	rc.Brokers, rc.GroupID = brokers, "rekey-buffers"
	rc.BatchSize, rc.Prefetch, rc.MaxInFlight = 40, 40, 80 // many batches, so buffers are used again and again
	out, err := kafkax.NewWriter(pc)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	rk, err := pipeline.NewRekey(rc, norm, placeByID{}, out, pipeline.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- rk.Run(rctx) }()

	for ingesttest.Count(t, b.Addr(), model.TopicEnriched)+ingesttest.Count(t, b.Addr(), model.TopicDLQ) < int64(len(raw)) {
		select {
		case err := <-done:
			t.Fatalf("rekey stopped: %v", err)
		case <-ctx.Done():
			t.Fatal("the raw records were not all rekeyed in time")
		case <-time.After(200 * time.Millisecond):
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	enriched, dead := ingesttest.ReadAll(t, b.Addr(), model.TopicEnriched), ingesttest.ReadAll(t, b.Addr(), model.TopicDLQ)
	if len(dead) < len(raw)/37+1 {
		t.Fatalf("%d dead letters, want %d at least", len(dead), len(raw)/37+1)
	}

	byOrigin := map[model.Offset]kafka.Message{} // every raw record, with its offset
	for _, src := range []string{model.SourceVK, model.SourceNashDom, model.Source112, model.SourcePOS} {
		for _, m := range ingesttest.ReadAll(t, b.Addr(), model.RawTopic(src)) {
			byOrigin[model.Offset{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}] = m
		}
	}
	if len(byOrigin) != len(raw) {
		t.Fatalf("read back %d raw records, wrote %d", len(byOrigin), len(raw))
	}
	seen := map[model.Offset]bool{}
	for _, e := range enriched {
		var a model.Appeal
		if err := model.ReadEnriched(e.Value, &a); err != nil {
			t.Fatalf("enriched record at %d/%d: %v", e.Partition, e.Offset, err)
		}
		m, ok := byOrigin[a.Origin]
		if !ok || seen[a.Origin] {
			t.Fatalf("enriched record of %s names origin %v: known %v, seen before %v", a.ID, a.Origin, ok, seen[a.Origin])
		}
		seen[a.Origin] = true
		want, err := norm.Normalize(m)
		if err != nil {
			t.Fatalf("%v was rekeyed, yet it does not parse: %v", a.Origin, err)
		}
		placeByID{}.Enrich(want)
		want.Origin = a.Origin
		if v := model.AppendEnriched(nil, want); !bytes.Equal(v, e.Value) {
			t.Fatalf("the enriched record of %v is not its appeal's encoding:\n got %q\nwant %q", a.Origin, e.Value, v)
		}
		if key := model.Scope(want.Region, want.OKTMO); string(e.Key) != key {
			t.Fatalf("the enriched record of %v has key %q, want %q", a.Origin, e.Key, key)
		}
	}
	for _, d := range dead {
		origin := ""
		for _, h := range d.Headers {
			if h.Key == model.HeaderOrigin {
				origin = string(h.Value)
			}
		}
		found := false
		for o, m := range byOrigin {
			if o.String() == origin && !seen[o] {
				seen[o], found = true, true
				if !bytes.Equal(d.Value, m.Value) || !bytes.HasPrefix(m.Value, []byte("{not json ")) {
					t.Fatalf("dead letter of %s: %q is not its bad record", origin, d.Value)
				}
			}
		}
		if !found {
			t.Fatalf("dead letter names origin %q: unknown or already out", origin)
		}
	}
	if len(seen) != len(raw) {
		t.Fatalf("%d of %d raw records came out (%d enriched, %d dead letters)", len(seen), len(raw), len(enriched), len(dead))
	}
}
