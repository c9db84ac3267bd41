package sink_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/sink"
)

var t0 = time.Date(2025, 11, 30, 23, 0, 0, 0, time.UTC) // an hour before a month boundary

// rows builds n appeals of one partition from offset first on, one every 10 s of event time.
func rows(topic string, partition int, first int64, n int) []*model.Appeal {
	out := make([]*model.Appeal, n)
	for i := range out {
		off := first + int64(i)
		id := fmt.Sprintf("%d-%d", partition, off)
		out[i] = &model.Appeal{ID: model.AppealID(model.SourceVK, id), Source: model.SourceVK, SourceID: id,
			Region: model.DefaultRegion, OKTMO: "61701000", Municipality: "Рязань", Category: "Дороги",
			Text: "Яма на дороге по улице Есенина у дома 12, колесо пробито", EventTime: t0.Add(time.Duration(off) * 10 * time.Second),
			ReceivedTime: t0, IncidentID: model.AppealID(model.SourceVK, id), IsIncident: true, Status: "new",
			Origin: model.Offset{Topic: topic, Partition: partition, Offset: off}}
	}
	return out
}

func migrated(t testing.TB) driver.Conn {
	t.Helper()
	conn, _ := testenv.ClickHouse(t)
	if _, err := chstore.MigrateProject(context.Background(), conn); err != nil {
		t.Fatal(err)
	}
	return conn
}

func count(t testing.TB, conn driver.Conn, q string, args ...any) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestWriteStoresAcrossMonthsAndRecordsProgress(t *testing.T) {
	conn := migrated(t)
	s := sink.New(conn, sink.Config{}, nil)
	ctx := context.Background()
	topic := model.RawTopic(model.SourceVK)

	p, err := s.Progress(ctx, topic, 3)
	if err != nil || p.Offset != -1 {
		t.Fatalf("empty partition: progress %+v, %v; want offset -1", p, err)
	}
	batch := rows(topic, 3, 0, 720) // 2 hours: crosses into December
	if err := s.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if n := count(t, conn, "SELECT count() FROM appeals"); n != 720 {
		t.Fatalf("stored %d rows, want 720", n)
	}
	if n := count(t, conn, "SELECT uniqExact(toYYYYMM(event_time)) FROM appeals"); n != 2 {
		t.Fatalf("rows span %d months, want 2", n)
	}
	p, err = s.Progress(ctx, topic, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := batch[len(batch)-1]; p.Offset != 719 || !p.MaxEventTime.Equal(want.EventTime) {
		t.Fatalf("progress %+v, want offset 719 and max event time %s", p, want.EventTime)
	}
}

// A writer that lost its partition and finishes a batch the new owner already stored must not double rows.
func TestWriteFencesRowsAlreadyStored(t *testing.T) {
	conn := migrated(t)
	s := sink.New(conn, sink.Config{}, nil)
	ctx := context.Background()
	topic := model.RawTopic(model.SourceNashDom)
	if err := s.Write(ctx, rows(topic, 0, 0, 100)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		first       int64
		n           int
		wantStored  uint64
		wantMaxOffs int64
	}{
		{"a whole stale batch", 50, 50, 100, 99},
		{"overlapping batch keeps only the new tail", 80, 40, 120, 119},
		{"a fresh batch", 120, 10, 130, 129},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Write(ctx, rows(topic, 0, tc.first, tc.n)); err != nil {
				t.Fatal(err)
			}
			if n := count(t, conn, "SELECT count() FROM appeals"); n != tc.wantStored {
				t.Fatalf("stored %d rows, want %d", n, tc.wantStored)
			}
			if n := count(t, conn, "SELECT uniqExact(kafka_offset) FROM appeals"); n != tc.wantStored {
				t.Fatalf("%d distinct offsets, want %d", n, tc.wantStored)
			}
			p, err := s.Progress(ctx, topic, 0)
			if err != nil || p.Offset != tc.wantMaxOffs {
				t.Fatalf("progress %+v, %v; want offset %d", p, err, tc.wantMaxOffs)
			}
		})
	}
}

// Partitions writing at once share INSERTs, and each still gets exactly its rows, across months too.
func TestConcurrentWritesShareInserts(t *testing.T) {
	conn := migrated(t)
	s := sink.New(conn, sink.Config{}, nil)
	reg := prometheus.NewRegistry()
	if err := s.Register(reg); err != nil {
		t.Fatal(err)
	}
	topic := model.RawTopic(model.SourceVK)
	const parts, batches, size = 16, 10, 100
	start := make(chan struct{})
	errs := make(chan error, parts)
	for p := range parts {
		go func() {
			<-start
			for b := range batches {
				// Partition p's batches begin p minutes apart, so some rounds mix November and December.
				batch := rows(topic, p, int64(b*size)+int64(p*6), size)
				if err := s.Write(context.Background(), batch); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	close(start)
	for range parts {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, conn, "SELECT count() FROM appeals"); n != parts*batches*size {
		t.Fatalf("stored %d rows, want %d", n, parts*batches*size)
	}
	if n := count(t, conn, "SELECT uniqExact(kafka_partition, kafka_offset) FROM appeals"); n != parts*batches*size {
		t.Fatalf("%d distinct (partition, offset), want %d", n, parts*batches*size)
	}
	if n := count(t, conn, "SELECT uniqExact(toYYYYMM(event_time)) FROM appeals"); n != 2 {
		t.Fatalf("rows span %d months, want 2", n)
	}
	// Every INSERT stamps its own version.
	inserts := count(t, conn, "SELECT uniqExact(version) FROM appeals")
	if inserts >= parts*batches {
		t.Fatalf("%d INSERTs for %d batches written at once: none were shared", inserts, parts*batches)
	}
	t.Logf("%d batches stored by %d INSERTs", parts*batches, inserts)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range fams {
		if f.GetName() == "teplokarta_sink_insert_rows" {
			found = true
			h := f.GetMetric()[0].GetHistogram()
			if h.GetSampleCount() != inserts || h.GetSampleSum() != parts*batches*size {
				t.Fatalf("rows metric: %d inserts, %v rows; want %d and %d", h.GetSampleCount(), h.GetSampleSum(), inserts, parts*batches*size)
			}
		}
	}
	if !found {
		t.Fatal("teplokarta_sink_insert_rows is not registered")
	}
	for p := range parts {
		got, err := s.Progress(context.Background(), topic, p)
		if want := int64((batches-1)*size + size - 1 + p*6); err != nil || got.Offset != want {
			t.Fatalf("partition %d: progress %+v, %v; want offset %d", p, got, err, want)
		}
	}
}

// One caller's deadline does not fail the rows of the callers it shares a round with.
func TestCancelledCallerDoesNotFailOthers(t *testing.T) {
	conn := migrated(t)
	s := sink.New(conn, sink.Config{}, nil)
	topic := model.RawTopic(model.SourceVK)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	errs := make(chan error, 2)
	go func() { errs <- s.Write(done, rows(topic, 0, 0, 50)) }()
	go func() { errs <- s.Write(context.Background(), rows(topic, 1, 0, 50)) }()
	var failed int
	for range 2 {
		if err := <-errs; err != nil {
			failed++
		}
	}
	if n := count(t, conn, "SELECT count() FROM appeals WHERE kafka_partition = 1"); n != 50 {
		t.Fatalf("partition 1 (live caller) stored %d rows, want 50", n)
	}
	// Partition 0's caller had already given up: its rows were stored (if it led or shared a round) or it
	// got an error; never both missing rows and a nil error.
	if n := count(t, conn, "SELECT count() FROM appeals WHERE kafka_partition = 0"); n != 50 && failed == 0 {
		t.Fatalf("partition 0 stored %d rows and Write reported success", n)
	}
}

// BenchmarkWrite measures what one ClickHouse insert of a batch of one partition costs, materialized views
// and background merges included: the sink's share of the processor's replay throughput. Every insert
// writes one part per table (appeals and each view's target), so the batch size matters most; the views=
// variants drop the rollup views (progress kept) or all views, to show what each costs. With a local
// server it also reports the server's own CPU per row, the merges that follow the inserts included.
func BenchmarkWrite(b *testing.B) {
	type variant struct {
		views            string
		batch, blockRows int
	}
	var variants []variant
	for _, views := range []string{"all", "progress", "none"} {
		for _, batch := range []int{1000, 5000, 20000} {
			variants = append(variants, variant{views, batch, sink.DefaultBlockRows})
		}
	}
	// One INSERT of 20,000 rows as a single block: what BlockRows saves in this process's bytes.
	variants = append(variants, variant{"all", 20000, 20000})
	for _, v := range variants {
		views, batch := v.views, v.batch
		name := fmt.Sprintf("views=%s/batch=%d", views, batch)
		if v.blockRows != sink.DefaultBlockRows {
			name += fmt.Sprintf("/block=%d", v.blockRows)
		}
		{
			b.Run(name, func(b *testing.B) {
				conn := migrated(b)
				dropViews(b, conn, views)
				s := sink.New(conn, sink.Config{BlockRows: v.blockRows}, nil)
				ctx := context.Background()
				topic := model.RawTopic(model.SourceVK)
				server, local := testenv.ServerCPU(b, os.Getenv(testenv.EnvClickHouse))
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				client, cerr := testenv.ProcessCPU(os.Getpid())
				for i := 0; i < b.N; i++ {
					if err := s.Write(ctx, rows(topic, i%16, int64(i/16*batch), batch)); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "rows/s")
				// This process's CPU (building and encoding the blocks, compressing, the driver) per row, which
				// other load on the machine does not inflate as it does ns/op. The rows themselves are built
				// inside the loop too (rows()), as the processor builds them before the sink sees them.
				if after, err := testenv.ProcessCPU(os.Getpid()); err == nil && cerr == nil {
					b.ReportMetric((after-client).Seconds()*1e6/float64(b.N*batch), "client-cpu-µs/row")
				}
				if local {
					waitMerges(b, conn)
					b.ReportMetric(server().Seconds()*1e6/float64(b.N*batch), "clickhouse-cpu-µs/row")
				}
			})
		}
	}
}

// waitMerges waits (at most a minute) until the test database has no merge running.
func waitMerges(t testing.TB, conn driver.Conn) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if count(t, conn, "SELECT count() FROM system.merges WHERE database = currentDatabase()") == 0 {
			return
		}
	}
}

// dropViews drops the test database's rollup views ("progress": appeal_progress_mv stays) or all of them
// ("none"); "all" keeps the shipped schema.
func dropViews(t testing.TB, conn driver.Conn, keep string) {
	t.Helper()
	if keep == "all" {
		return
	}
	rows, err := conn.Query(context.Background(),
		"SELECT name FROM system.tables WHERE database = currentDatabase() AND engine = 'MaterializedView'")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		if keep != "progress" || n != "appeal_progress_mv" {
			names = append(names, n)
		}
	}
	rows.Close()
	for _, n := range names {
		if err := conn.Exec(context.Background(), "DROP TABLE "+n); err != nil {
			t.Fatal(err)
		}
	}
}
