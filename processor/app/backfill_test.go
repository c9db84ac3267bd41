package app_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/ingest/backfill"
	"github.com/teplokarta/teplokarta/internal/sources"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/app"
)

// TestBackfillTrainCSVReachesClickHouse imports the real «Наш дом» export through ingest's backfill and
// checks that every valid appeal lands in ClickHouse with the portal's own category and executor.
func TestBackfillTrainCSVReachesClickHouse(t *testing.T) {
	t.Parallel()
	path := filepath.Join(testenv.SharedData(t), "nashdom-ryazan", "train.csv")
	b := testenv.Broker(t)
	conn, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)

	w := rawWriter(t, b.Addr())
	v, err := ingest.NewSchemaValidator()
	if err != nil {
		t.Fatal(err)
	}
	in := ingest.NewIngestor(sources.Default("salt", sources.DefaultLimits()), v, w, nil, nil)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sum, err := backfill.Run(ctx, backfill.Config{Source: "nashdom", Format: "csv", EventTime: time.Date(2019, 3, 29, 0, 0, 0, 0, time.FixedZone("MSK", 3*3600))}, in, f, -1)
	if err != nil {
		t.Fatal(err)
	}

	o := app.DefaultOptions()
	o.Pipeline.Brokers, o.Pipeline.GroupID, o.Dedup.KeyPrefix = []string{b.Addr()}, "backfill", prefix
	stop := runProcessor(t, o, app.Clients{ClickHouse: conn, Redis: rdb})
	waitRows(t, conn, sum.Appeals, 2*time.Minute)
	_ = stop()

	// The portal's categories and executors arrive as hints and are kept as they are.
	want := map[[2]string]uint64{}
	cf, _ := os.Open(path)
	defer cf.Close()
	recs, err := csv.NewReader(cf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] {
		if strings.TrimSpace(r[1]) != "" {
			want[[2]string{r[2], r[4]}]++
		}
	}
	rows, err := conn.Query(context.Background(), "SELECT category, agency, count() FROM appeals GROUP BY category, agency")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[[2]string]uint64{}
	for rows.Next() {
		var c, a string
		var n uint64
		if err := rows.Scan(&c, &a, &n); err != nil {
			t.Fatal(err)
		}
		got[[2]string{c, a}] = n
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("category %q / executor %q: ClickHouse %d, export %d", k[0], k[1], got[k], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d category/executor pairs in ClickHouse, %d in the export", len(got), len(want))
	}
}
