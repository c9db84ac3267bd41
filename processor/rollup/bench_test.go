package rollup_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/processor/rollup"
)

// BenchmarkVerify times a full Verify (every rollup partition and progress record) over a database of
// TEPLOKARTA_BENCH_VERIFY_ROWS appeals (default 200,000; the figure is 10,000,000) spread over a
// year, 29 municipalities, 12 categories, 40 themes and agencies, and reports it against a plain full scan
// of appeals reading the same columns (scan-ratio: verify time / scan time).
//
//	TEPLOKARTA_BENCH_VERIFY_ROWS=10000000 go test -run '^$' -bench Verify -benchtime 3x -timeout 30m ./processor/rollup/
func BenchmarkVerify(b *testing.B) {
	n := 200000
	if v, err := strconv.Atoi(os.Getenv("TEPLOKARTA_BENCH_VERIFY_ROWS")); err == nil && v > 0 {
		n = v
	}
	conn := migrated(b)
	ctx := context.Background()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	const chunk = 1000000
	for off := 0; off < n; off += chunk {
		q := fmt.Sprintf(`INSERT INTO appeals (appeal_id, source, region, oktmo, category, theme, agency, event_time,
				is_incident, is_late, kafka_topic, kafka_partition, kafka_offset)
			SELECT concat('b', toString(number)), ['vk','nashdom','112','pos'][number %% 4 + 1], 'RU-RYA',
				toString(61600000 + (intHash32(number) %% 29) * 1000), concat('cat', toString(intHash32(number + 1) %% 12)),
				concat('theme', toString(intHash32(number + 2) %% 40)), concat('agency', toString(intHash32(number + 3) %% 40)),
				toDateTime(%d + intDiv(number * 31536000, %d)), toUInt8(number %% 3 != 0), toUInt8(number %% 50 = 0),
				'appeals.raw.bench', toInt32(number %% 16), toInt64(number)
			FROM numbers(%d, %d)`, start, n, off, min(chunk, n-off))
		if err := conn.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	scan := func() time.Duration {
		began := time.Now()
		var rows, h uint64
		if err := conn.QueryRow(ctx, `SELECT count(), sum(cityHash64(region, oktmo, category, theme, agency, source, event_time, is_incident, is_late))
			FROM appeals`).Scan(&rows, &h); err != nil {
			b.Fatal(err)
		}
		if rows != uint64(n) {
			b.Fatalf("scan read %d rows, want %d", rows, n)
		}
		return time.Since(began)
	}
	for _, deep := range []bool{false, true} {
		b.Run(fmt.Sprintf("deep=%v", deep), func(b *testing.B) { benchVerify(b, ctx, conn, n, scan, deep) })
	}
}

func benchVerify(b *testing.B, ctx context.Context, conn driver.Conn, n int, scan func() time.Duration, deep bool) {
	var scanTotal time.Duration
	b.ResetTimer()
	for range b.N {
		rep, err := rollup.Verify(ctx, conn, rollup.Scope{Deep: deep})
		if err != nil {
			b.Fatal(err)
		}
		if !rep.Clean() {
			b.Fatalf("a healthy database differs: %v", rep.Diffs)
		}
		b.StopTimer()
		scanTotal += scan()
		b.StartTimer()
	}
	b.StopTimer()
	perVerify := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(n), "appeals")
	b.ReportMetric(perVerify.Seconds(), "verify-s")
	b.ReportMetric((scanTotal / time.Duration(b.N)).Seconds(), "scan-s")
	b.ReportMetric(float64(perVerify)/float64(scanTotal/time.Duration(b.N)), "scan-ratio")
}
