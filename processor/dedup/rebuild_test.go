package dedup

import (
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// storeAppeals writes the decided appeals as the processor's sink does: every appeal that is not an
// exact duplicate, one row each, with its Kafka origin.
func storeAppeals(t *testing.T, conn driver.Conn, batch []*model.Appeal, decs []Decision) int {
	t.Helper()
	ctx := testCtx(t)
	b, err := conn.PrepareBatch(ctx, `INSERT INTO appeals (appeal_id, source, source_id, region, oktmo, text,
		fingerprint, event_time, received_time, processed_time, incident_id, is_incident,
		kafka_topic, kafka_partition, kafka_offset, version)`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	now := time.Now().UTC()
	for i, a := range batch {
		if decs[i].Kind == ExactDuplicate {
			continue
		}
		isIncident := uint8(0)
		if decs[i].Kind == Incident {
			isIncident = 1
		}
		if err := b.Append(a.ID, a.Source, a.SourceID, a.Region, a.OKTMO, a.Text, a.Fingerprint, a.EventTime,
			now, now, decs[i].IncidentID, isIncident, a.Origin.Topic, int32(a.Origin.Partition), a.Origin.Offset,
			uint64(now.UnixNano())); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRebuildAfterRedisLostItsData(t *testing.T) {
	d, rdb, prefix := newTestDeduper(t)
	conn, _ := testenv.ClickHouse(t)
	ctx := testCtx(t)

	batch := mixedBatch()
	first := decide(t, ctx, d, batch...)
	stored := storeAppeals(t, conn, batch, first)

	if deleteKeys(t, rdb, prefix+"*") == 0 {
		t.Fatal("nothing to flush")
	}
	n, err := d.Rebuild(ctx, conn, t0.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != stored {
		t.Fatalf("rebuilt %d rows, stored %d", n, stored)
	}

	tests := []struct {
		name string
		a    *model.Appeal
		want func(got Decision) bool
		desc string
	}{
		{"new paraphrase of the burst pipe", appealAt(model.SourceVK, "late-neighbour",
			"Во дворе Есенина 23 так и течёт вода из прорванной трубы, подвал затоплен, когда починят?", oktmoRyazan, t0.Add(5*time.Hour), 3, 1),
			func(g Decision) bool { return g == Decision{Voice, model.AppealID(model.SourcePOS, "bp0")} }, "voice of pos:bp0"},
		{"retry of a stored appeal from a new offset", appealAt(model.SourceVK, "bg5", background[5], oktmoRyazan, t0, 3, 2),
			func(g Decision) bool { return g == Decision{ExactDuplicate, ""} }, "exact duplicate"},
	}
	replay := clone(batch)
	again := decide(t, ctx, d, replay...)
	for i := range first {
		if first[i] != again[i] {
			t.Errorf("replay of %s: first %v, after rebuild %v", batch[i].ID, first[i], again[i])
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := decide(t, ctx, d, tc.a)[0]; !tc.want(got) {
				t.Fatalf("got %v, want %s", got, tc.desc)
			}
		})
	}
}
