package sink_test

import (
	"context"
	"testing"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/sink"
)

// An INSERT bigger than BlockRows goes out as several blocks and still lands as one part in appeals and
// in every view's target: ClickHouse squashes an INSERT's blocks (min_insert_block_size_rows), so the
// server pays per INSERT, not per block. Separate INSERTs of the same rows make a part each, which is what
// shows the count measures the server's parts.
func TestBlocksOfOneInsertLandAsOnePart(t *testing.T) {
	tests := []struct {
		name      string
		blockRows int
		writes    int // the 6,000 rows in this many Writes
		wantParts uint64
	}{
		{"one insert of six blocks", 1000, 1, 1},
		{"one insert of one block", 0, 1, 1},
		{"three inserts", 1000, 3, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn := migrated(t)
			ctx := context.Background()
			tables := testenv.MergeTrees(t, conn)
			parts := func(tb string) uint64 {
				return count(t, conn, "SELECT count() FROM system.parts WHERE active AND database = currentDatabase() AND table = ?", tb)
			}
			before := map[string]uint64{}
			for _, tb := range tables {
				before[tb] = parts(tb) // schema_migrations has its own
			}
			for _, tb := range tables {
				if err := conn.Exec(ctx, "SYSTEM STOP MERGES "+tb); err != nil {
					t.Fatal(err)
				}
			}
			s := sink.New(conn, sink.Config{BlockRows: tc.blockRows}, nil)
			topic := model.RawTopic(model.SourceVK)
			per := 6000 / tc.writes
			for w := range tc.writes {
				// 6,000 rows 10 s apart from t0 + 2 h: all in December.
				if err := s.Write(ctx, rows(topic, 0, 720+int64(w*per), per)); err != nil {
					t.Fatal(err)
				}
			}
			if n := count(t, conn, "SELECT count() FROM appeals"); n != 6000 {
				t.Fatalf("stored %d rows, want 6000", n)
			}
			if n := count(t, conn, "SELECT uniqExact(kafka_offset) FROM appeals"); n != 6000 {
				t.Fatalf("%d distinct offsets, want 6000", n)
			}
			// appeals, appeal_progress and the five rollups get rows; the SLA tables get none.
			written := 0
			for _, tb := range tables {
				n := parts(tb) - before[tb]
				if n > 0 {
					written++
				}
				if n > 0 && n != tc.wantParts {
					t.Errorf("%s: %d active parts, want %d", tb, n, tc.wantParts)
				}
			}
			if written < 7 {
				t.Fatalf("only %d tables got parts, want appeals, progress and 5 rollups", written)
			}
		})
	}
}
