package app_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/app"
	"github.com/teplokarta/teplokarta/processor/enrich"
)

// BenchmarkReplayThroughput replays a backlog of simulated appeals through the whole processor
// (Kafka → normalize → classify → resolve → route → dedup → windows → ClickHouse) and reports appeals/s
// TEPLOKARTA_BENCH_APPEALS sets the backlog (default 20,000).
func BenchmarkReplayThroughput(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("TEPLOKARTA_BENCH_APPEALS")); err == nil && v > 0 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		br := testenv.Broker(b)
		conn, _ := testenv.ClickHouse(b)
		rdb, prefix := testenv.Redis(b)
		truth := simulate(b, br.Addr(), uint64(i+1), n, time.Now().Add(-30*24*time.Hour).Truncate(time.Hour))
		o := app.DefaultOptions()
		o.Pipeline.Brokers, o.Pipeline.GroupID, o.Dedup.KeyPrefix = []string{br.Addr()}, "bench", prefix
		st, err := enrich.Load("", "", "") // what the binary ships
		if err != nil {
			b.Fatal(err)
		}
		o.Enrich = st
		eng, err := app.Build(o, app.Clients{ClickHouse: conn, Redis: rdb})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		b.StartTimer()
		start := time.Now()
		go func() { done <- eng.Run(ctx) }()
		waitRows(b, conn, truth.Appeals, 10*time.Minute)
		el := time.Since(start)
		b.StopTimer()
		cancel()
		<-done
		b.ReportMetric(float64(truth.Messages)/el.Seconds(), "appeals/s")
	}
}
