package testenv

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// DedupPayload is what the dedup stage's Redis state holds under one key prefix, read back key by key:
// the payload any other home for that state (partition-local memory, an embedded store) would have to
// hold, without Redis's own overhead. docs/deduplication.md, "Sizing partition-local state".
type DedupPayload struct {
	BandFields  int // LSH band fields claimed (each names the member that claimed it first)
	Records     int // member records (event time, stem sketch, places, incident)
	RecordBytes int // their encoded bytes
	IDClaims    int // exact-id claims
	TextClaims  int // exact-text claims
}

// ReadDedupPayload scans prefix's dedup keys. Band fields and records share the bucket hashes; records
// are the fields starting with 's' (dedup.recordField), band fields start with 'b'.
func ReadDedupPayload(t testing.TB, rdb redis.UniversalClient, prefix string) DedupPayload {
	t.Helper()
	ctx := context.Background()
	var p DedupPayload
	scan := func(pattern string, each func(key string)) {
		it := rdb.Scan(ctx, 0, prefix+pattern, 1000).Iterator()
		for it.Next(ctx) {
			each(it.Val())
		}
		if err := it.Err(); err != nil {
			t.Fatalf("testenv: scan %s: %v", pattern, err)
		}
	}
	scan("dedup:id:*", func(string) { p.IDClaims++ })
	scan("dedup:fp:*", func(string) { p.TextClaims++ })
	// HSCAN, not HGETALL: a busy municipality's bucket holds millions of fields after the 1M benchmark.
	scan("dedup:lsh:*", func(key string) {
		it := rdb.HScan(ctx, key, 0, "", 10000).Iterator()
		for it.Next(ctx) { // field, value, field, value, …
			f := it.Val()
			if !it.Next(ctx) {
				break
			}
			if strings.HasPrefix(f, "s") {
				p.Records++
				p.RecordBytes += len(it.Val())
			} else {
				p.BandFields++
			}
		}
		if err := it.Err(); err != nil {
			t.Fatalf("testenv: HSCAN %s: %v", key, err)
		}
	})
	return p
}

// Report adds the payload per appeal to a benchmark's metrics.
func (p DedupPayload) Report(b *testing.B, appeals int) {
	b.ReportMetric(float64(p.BandFields)/float64(appeals), "band-fields/appeal")
	b.ReportMetric(float64(p.Records)/float64(appeals), "records/appeal")
	b.ReportMetric(float64(p.RecordBytes)/float64(max(p.Records, 1)), "record-B/record")
	b.ReportMetric(float64(p.IDClaims)/float64(appeals), "id-claims/appeal")
	b.ReportMetric(float64(p.TextClaims)/float64(appeals), "text-claims/appeal")
}
