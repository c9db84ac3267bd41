package sink_test

import (
	"context"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/rollup"
	"github.com/teplokarta/teplokarta/processor/sink"
)

// A view fails mid-INSERT: ClickHouse has stored the appeals part and run the views before the failing
// one (18.16 runs them in name order: the day rollup), and not the ones after it (hour, minute, month,
// per-municipality day, progress). The sink must not insert the rows again (appeals would hold them twice
// until a merge, and the day rollup would count them twice for good) and must bring every view to what
// appeals hold before it reports the batch stored.
func TestViewFailingMidInsert(t *testing.T) {
	conn := migrated(t)
	rdb, prefix := testenv.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, q := range []string{
		"CREATE TABLE injected_failure (x UInt8) ENGINE = Null",
		`CREATE MATERIALIZED VIEW appeal_counts_1e_fail_mv TO injected_failure AS
			SELECT throwIf(kafka_offset >= 0) AS x FROM appeals`,
	} {
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	gate, err := rollup.NewGate(rdb, rollup.GateConfig{KeyPrefix: prefix, Owner: "test"})
	if err != nil {
		t.Fatal(err)
	}
	checker := rollup.NewChecker(conn, gate, nil)
	s := sink.New(conn, sink.Config{RetryBackoff: 50 * time.Millisecond, Gate: gate, Settle: checker.Settle}, nil)
	topic := model.RawTopic(model.SourceVK)
	batch := rows(topic, 1, 0, 200)
	done := make(chan error, 1)
	go func() { done <- s.Write(ctx, batch) }()
	for count(t, conn, "SELECT count() FROM appeals") == 0 { // the first attempt stored the appeals part
		time.Sleep(20 * time.Millisecond)
	}
	if err := conn.Exec(ctx, "DROP TABLE appeal_counts_1e_fail_mv"); err != nil { // the fault passes
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := count(t, conn, "SELECT count() FROM appeals"); n != 200 {
		t.Fatalf("appeals holds %d rows, want 200: the landed rows were inserted again", n)
	}
	for _, table := range []string{"appeal_counts_1m", "appeal_counts_1h", "appeal_counts_1d", "appeal_counts_1mo", "appeal_counts_oktmo_1d"} {
		if n := count(t, conn, "SELECT sum(voices) FROM "+table); n != 200 {
			t.Errorf("%s counts %d appeals, want 200", table, n)
		}
	}
	p, err := s.Progress(ctx, topic, 1)
	if err != nil || p.Offset != 199 {
		t.Fatalf("progress %+v (%v), want offset 199", p, err)
	}
}
