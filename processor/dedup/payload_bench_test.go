package dedup

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// BenchmarkStatePayloadPortal decides the «Наш дом» portal's real texts (the train split, one scope, a
// minute apart) and reports what the state holds per appeal. The synthetic streams of the other
// benchmarks reuse a few dozen problem clauses, so their texts share most band values (≈ 1.5–2 band
// fields per appeal); real texts are mostly distinct and claim most of their 16 bands. This is the
// figure to size any partition-local home for the state by (docs/deduplication.md).
func BenchmarkStatePayloadPortal(b *testing.B) {
	f, err := os.Open(filepath.Join(testenv.SharedData(b), "nashdom-ryazan", "train.csv"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	recs = recs[1:] // the header
	for range b.N {
		d, rdb, prefix := newTestDeduper(b)
		batch := make([]*model.Appeal, len(recs))
		for i, r := range recs {
			batch[i] = appealAt(model.SourceNashDom, strconv.Itoa(i), r[1], oktmoRyazan,
				t0.Add(time.Duration(i)*time.Minute), 0, int64(i))
		}
		before := testenv.RedisUsedMemory(b, rdb)
		got := decide(b, testCtx(b), d, batch...)
		b.ReportMetric(float64(testenv.RedisUsedMemory(b, rdb)-before)/float64(len(batch)), "redis-bytes/appeal")
		voices := 0
		for _, g := range got {
			if g.Kind == Voice {
				voices++
			}
		}
		testenv.ReadDedupPayload(b, rdb, prefix).Report(b, len(batch))
		b.ReportMetric(float64(voices)/float64(len(batch)), "voice-share")
	}
}
