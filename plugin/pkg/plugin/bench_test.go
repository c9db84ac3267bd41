package plugin_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// Benchmark knobs: TEPLOKARTA_BENCH_ROWS appeals (default 1M) are generated server-side into the
// database bench_plugin_<rows>, which is kept for the next run when TEPLOKARTA_BENCH_KEEP=1.
const (
	envBenchRows = "TEPLOKARTA_BENCH_ROWS"
	envBenchKeep = "TEPLOKARTA_BENCH_KEEP"
)

// seedBench fills appeals with rows spread over 2024-10-01 … 2025-12-31 (a year plus the heat map's
// baseline): 40 % in Рязань, 36 themes in 12 categories, 8 agencies, 4 sources, every 5th a voice. The
// materialized views build the rollups as in production; OPTIMIZE FINAL then merges them as background
// merges would on a long-running server.
func seedBench(b *testing.B, rows int) chstore.Config {
	b.Helper()
	cfg := chstore.DefaultConfig()
	cfg.Addr = os.Getenv(testenv.EnvClickHouse)
	if cfg.Addr == "" {
		b.Fatalf("%s is not set", testenv.EnvClickHouse)
	}
	cfg.Database = fmt.Sprintf("bench_plugin_%d", rows)
	ctx := context.Background()
	conn, err := chstore.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if os.Getenv(envBenchKeep) != "1" {
		b.Cleanup(func() {
			c, err := chstore.Open(context.Background(), cfg)
			if err == nil {
				_ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+cfg.Database)
				c.Close()
			}
		})
	}
	if _, err := chstore.MigrateProject(ctx, conn); err != nil {
		b.Fatal(err)
	}
	var have uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM appeals").Scan(&have); err != nil {
		b.Fatal(err)
	}
	// A database kept from before migration 0005 has the rows but empty narrow rollups: seed it again.
	var inMonthly uint64
	if err := conn.QueryRow(ctx, "SELECT toUInt64(sum(voices)) FROM appeal_counts_1mo").Scan(&inMonthly); err != nil {
		b.Fatal(err)
	}
	if have == uint64(rows) && inMonthly == have {
		return cfg
	}
	for _, t := range []string{"appeals", "appeal_counts_1m", "appeal_counts_1h", "appeal_counts_1d", "appeal_counts_1mo", "appeal_counts_oktmo_1d"} {
		if err := conn.Exec(ctx, "TRUNCATE TABLE "+t); err != nil {
			b.Fatal(err)
		}
	}
	var codes []string
	for _, m := range geo.Default().All() {
		if m.OKTMO != ryazan {
			codes = append(codes, "'"+m.OKTMO+"'")
		}
	}
	start := time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC)
	span := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Sub(start) / time.Second
	const chunk = 1_000_000
	began := time.Now()
	for off := 0; off < rows; off += chunk {
		n := min(chunk, rows-off)
		// Generated values only: nothing here comes from outside the benchmark.
		sql := fmt.Sprintf(`INSERT INTO appeals (appeal_id, source, source_id, region, oktmo, category, theme, agency, event_time, received_time, processed_time, status, incident_id, is_incident, version)
SELECT toString(number), ['vk','nashdom','112','pos'][number %% 4 + 1], toString(number), 'RU-RYA',
  if(number %% 10 < 4, '%s', [%s][intHash32(number) %% %d + 1]),
  concat('категория ', toString(intDiv(intHash32(number * 7 + 1) %% 36, 3))),
  concat('тема ', toString(intHash32(number * 7 + 1) %% 36)),
  concat('ведомство ', toString(intDiv(intHash32(number * 7 + 1) %% 36, 3) %% 8)),
  toDateTime(%d + intHash32(number * 3 + 2) %% %d) AS t, t, t, 'new', toString(number), toUInt8(number %% 5 != 0), 1
FROM numbers(%d, %d)`, ryazan, strings.Join(codes, ","), len(codes), start.Unix(), int64(span), off, n)
		if err := conn.Exec(ctx, sql); err != nil {
			b.Fatal(err)
		}
	}
	seeded := time.Since(began)
	for _, t := range []string{"appeal_counts_1d", "appeal_counts_1h", "appeal_counts_1m", "appeal_counts_1mo", "appeal_counts_oktmo_1d"} {
		if err := conn.Exec(ctx, "OPTIMIZE TABLE "+t+" FINAL"); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d appeals in %s, merged rollups in %s", rows, seeded.Round(time.Millisecond), (time.Since(began) - seeded).Round(time.Millisecond))
	return cfg
}

// BenchmarkQueries measures the plugin backend end to end (gRPC → plugin → ClickHouse → frames) and
// reports p50/p95 latency per query. Targets with 10M appeals: heatmap for a year ≤ 50 ms p95,
// timeseries for a month by day ≤ 100 ms p95.
func BenchmarkQueries(b *testing.B) {
	rows := 1_000_000
	if v := os.Getenv(envBenchRows); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("%s=%q is not a positive number", envBenchRows, v)
		}
		rows = n
	}
	cfg := seedBench(b, rows)
	conn, err := chstore.Open(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	h := startPlugin(b, conn, cfg, nil)
	year := [2]time.Time{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	month := [2]time.Time{time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)}
	cases := []struct {
		name     string
		rng      [2]time.Time
		interval time.Duration
		model    q
	}{
		{"heatmap_year", year, oneDay, q{"queryType": "heatmap"}},
		{"heatmap_year_partial_months", [2]time.Time{time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC), time.Date(2025, 12, 20, 0, 0, 0, 0, time.UTC)}, oneDay, q{"queryType": "heatmap"}},
		{"timeseries_month_by_day", month, oneDay, q{"queryType": "timeseries", "groupBy": "category"}},
		{"timeseries_month_by_day_municipality", month, oneDay, q{"queryType": "timeseries", "groupBy": "municipality"}},
		{"top_themes_year", year, oneDay, q{"queryType": "top", "dimension": "theme"}},
		{"planning_year", year, oneDay, q{"queryType": "planning", "groupBy": "municipality"}},
		{"heatmap_month_status_new_raw", month, oneDay, q{"queryType": "heatmap", "filters": q{"statuses": []string{"new"}}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h.t = b
			h.run(c.rng[0], c.rng[1], c.interval, c.model) // warm-up: first-touch of parts
			var lat []time.Duration
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				h.run(c.rng[0], c.rng[1], c.interval, c.model)
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / 1e6 }
			b.ReportMetric(p(0.5), "p50-ms")
			b.ReportMetric(p(0.95), "p95-ms")
		})
	}
}
