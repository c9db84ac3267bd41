package dedup

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// BenchmarkStatePayloadPortal decides the «Наш дом» portal's real texts (the train split, one scope, a
// minute apart, batches of 500) and reports what the state holds per appeal and, with a local server,
// Redis's CPU per appeal. The synthetic streams of the other benchmarks reuse a few dozen problem
// clauses, so their texts share most band values (≈ 1.5–2 band fields per appeal); real texts are mostly
// distinct and claim most of their 16 bands. These are the figures to size any home for the state by
// (docs/deduplication.md). Each iteration starts from an empty state.
func BenchmarkStatePayloadPortal(b *testing.B) {
	recs := portalRecords(b)
	const batchSize = 500
	var redisCPU time.Duration
	var local bool
	for range b.N {
		b.StopTimer()
		d, rdb, prefix := newTestDeduper(b)
		appeals := make([]*model.Appeal, len(recs))
		for i, r := range recs {
			appeals[i] = appealAt(model.SourceNashDom, strconv.Itoa(i), r[1], oktmoRyazan,
				t0.Add(time.Duration(i)*time.Minute), 0, int64(i))
		}
		before := testenv.RedisUsedMemory(b, rdb)
		server, ok := testenv.ServerCPU(b, os.Getenv(testenv.EnvRedis))
		local = ok
		ctx := testCtx(b)
		voices := 0
		b.StartTimer()
		for start := 0; start < len(appeals); start += batchSize {
			for _, g := range decide(b, ctx, d, appeals[start:min(start+batchSize, len(appeals))]...) {
				if g.Kind == Voice {
					voices++
				}
			}
		}
		b.StopTimer()
		if local {
			redisCPU += server()
		}
		b.ReportMetric(float64(testenv.RedisUsedMemory(b, rdb)-before)/float64(len(appeals)), "redis-bytes/appeal")
		testenv.ReadDedupPayload(b, rdb, prefix).Report(b, len(appeals))
		b.ReportMetric(float64(voices)/float64(len(appeals)), "voice-share")
	}
	if local {
		b.ReportMetric(redisCPU.Seconds()*1e6/float64(b.N*len(recs)), "redis-cpu-µs/appeal")
	}
}
