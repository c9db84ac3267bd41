package dedup

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

const (
	oktmoRyazan = "61701000"
	oktmoSasovo = "61710000"
)

var t0 = time.Date(2025, 11, 3, 9, 0, 0, 0, time.UTC)

// appealAt builds a normalized appeal as the processor hands it to Decide.
func appealAt(source, sourceID, text, oktmo string, at time.Time, partition int, offset int64) *model.Appeal {
	return &model.Appeal{
		ID: model.AppealID(source, sourceID), Source: source, SourceID: sourceID, Region: model.DefaultRegion,
		Text: text, OKTMO: oktmo, EventTime: at,
		Origin: model.Offset{Topic: model.RawTopic(source), Partition: partition, Offset: offset},
	}
}

func newTestDeduper(t testing.TB) (*Redis, *redis.Client, string) {
	t.Helper()
	rdb, prefix := testenv.Redis(t)
	cfg := DefaultConfig()
	cfg.KeyPrefix = prefix
	d, err := New(rdb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d, rdb, prefix
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func decide(t testing.TB, ctx context.Context, d Deduper, batch ...*model.Appeal) []Decision {
	t.Helper()
	got, err := d.Decide(ctx, batch)
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	if len(got) != len(batch) {
		t.Fatalf("Decide returned %d decisions for %d appeals", len(got), len(batch))
	}
	return got
}

// decideConcurrently decides the batches with workers goroutines at once, each taking the next batch, as a
// processor decides its partitions' batches. It returns the first error.
func decideConcurrently(ctx context.Context, d Deduper, workers int, batches [][]*model.Appeal) error {
	next := make(chan []*model.Appeal, len(batches))
	for _, b := range batches {
		next <- b
	}
	close(next)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				if _, err := d.Decide(ctx, b); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (d Decision) String() string { return fmt.Sprintf("%s→%s", d.Kind, d.IncidentID) }

// offsets hands out increasing offsets per topic, as a Kafka partition would.
type offsets map[string]int64

func (o offsets) next(source string) int64 { o[source]++; return o[source] }

// testDeduper is what the behaviour tests need of either deduper.
type testDeduper interface {
	Deduper
	bucketKey(region, oktmo string, bucket int64) string
	bucketSeconds() int64
}

func newLocalDeduper(t testing.TB) *Local {
	t.Helper()
	d, err := NewLocal(DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// forEachDeduper runs a behaviour test on both dedupers: the decisions must not depend on where the state
// lives.
func forEachDeduper(t *testing.T, fn func(t *testing.T, newDeduper func(testing.TB) testDeduper)) {
	t.Run("redis", func(t *testing.T) {
		fn(t, func(tb testing.TB) testDeduper { d, _, _ := newTestDeduper(tb); return d })
	})
	t.Run("local", func(t *testing.T) {
		fn(t, func(tb testing.TB) testDeduper { return newLocalDeduper(tb) })
	})
}

// portalRecords reads every row of the «Наш дом» portal's train split as the portal delivered it (text in
// column 1), header dropped: classify.ReadExamples would drop its 4 repeated texts, which are exactly what
// deduplication is for.
func portalRecords(tb testing.TB) [][]string {
	tb.Helper()
	f, err := os.Open(filepath.Join(testenv.SharedData(tb), "nashdom-ryazan", "train.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	return recs[1:]
}
