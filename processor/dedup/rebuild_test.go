package dedup

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// storeAppeals writes the decided appeals as the processor's sink does: every appeal that is not an
// exact duplicate, one row each, with its Kafka origin.
func storeAppeals(t testing.TB, conn driver.Conn, batch []*model.Appeal, decs []Decision) int {
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

// A rebuild prepares its chunks concurrently, but applies them in the rows' order (incidents first, so
// that band fields point at incidents): chunks of three whose preparation takes longer the earlier they
// come still reach apply in the query's order.
func TestReadStoredKeepsTheRowsOrder(t *testing.T) {
	smallRebuildChunks(t)
	conn, _ := testenv.ClickHouse(t)
	ctx := testCtx(t)
	batch := mixedBatch()
	stored := storeAppeals(t, conn, batch, decide(t, ctx, newLocalDeduper(t), batch...))
	since := []any{t0.Add(-24 * time.Hour)}
	rows, err := conn.Query(ctx, "SELECT appeal_id FROM ("+rebuildQuery+")", since...)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	rows.Close()
	if len(want) != stored || len(want) < 4*rebuildChunk {
		t.Fatalf("%d rows stored, %d read: too few for chunks to overtake one another", stored, len(want))
	}
	var delay atomic.Int64
	delay.Store(int64(len(want)/rebuildChunk+1) * int64(time.Millisecond))
	var got []string
	n, err := readStored(ctx, conn, rebuildQuery, since, func(chunk []*model.Appeal) []*item {
		time.Sleep(time.Duration(delay.Add(-int64(time.Millisecond)))) // the first chunk is the slowest
		return make([]*item, len(chunk))
	}, func(c storedChunk) error {
		if len(c.items) != len(c.appeals) {
			t.Errorf("a chunk of %d rows came with %d prepared items", len(c.appeals), len(c.items))
		}
		for _, a := range c.appeals {
			got = append(got, a.ID)
		}
		return nil
	})
	if err != nil || n != len(want) {
		t.Fatalf("readStored: %d rows, %v; want %d", n, err, len(want))
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows applied in another order than read:\n got %v\nwant %v", got, want)
	}
}
