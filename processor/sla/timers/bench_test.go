package timers_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/sla/timers"
)

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// BenchmarkBreachLatency keeps N open timers (TEPLOKARTA_SLA_BENCH_TIMERS, default 100000; the issue's
// target is 1000000) in Redis, lets new appeals arrive at 1000/s for TEPLOKARTA_SLA_BENCH_SECONDS
// (default 8) each with a deadline 1 s after arrival, and measures how long after its deadline each
// breach is claimed by the poller (100 ms interval). Run with -benchtime=1x.
func BenchmarkBreachLatency(b *testing.B) {
	n := envInt(b, "TEPLOKARTA_SLA_BENCH_TIMERS", 100_000)
	secs := envInt(b, "TEPLOKARTA_SLA_BENCH_SECONDS", 8)
	rdb, prefix := testenv.Redis(b)
	s := newStore(b, rdb, prefix, 30*time.Second, 1000)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	before := testenv.RedisUsedMemory(b, rdb)
	far := time.Now().Add(24 * time.Hour)
	for lo := 0; lo < n; lo += 10_000 {
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := lo; i < min(lo+10_000, n); i++ {
				// open appeals spread over the next day, none due during the run
				s.Schedule(ctx, p, timers.Breach, "rya:"+strconv.Itoa(i), far.Add(time.Duration(i)*time.Millisecond))
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	after := testenv.RedisUsedMemory(b, rdb)
	keyBytes, err := rdb.MemoryUsage(ctx, s.Key(timers.Breach), 0).Result()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.ReportMetric(float64(keyBytes)/float64(n), "zset-bytes/timer")
		b.ReportMetric(float64(after-before)/float64(n), "used_memory-bytes/timer")
		var mu sync.Mutex
		var lat []time.Duration
		pollCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Poll(pollCtx, wallClock{}, 100*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)),
				func(_ context.Context, due []timers.Due) error {
					now := time.Now()
					mu.Lock()
					for _, d := range due {
						lat = append(lat, now.Sub(d.At))
					}
					mu.Unlock()
					return nil
				})
		}()
		// arrivals: 1000/s (caught up every 10 ms tick), each due 1 s after it arrived
		tick := time.NewTicker(10 * time.Millisecond)
		start := time.Now()
		end := start.Add(time.Duration(secs) * time.Second)
		sent := 0
		for now := range tick.C {
			if now.After(end) {
				break
			}
			_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for range int(now.Sub(start).Milliseconds()) - sent {
					s.Schedule(ctx, p, timers.Breach, "new:"+strconv.Itoa(sent), now.Add(time.Second))
					sent++
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		tick.Stop()
		time.Sleep(1500 * time.Millisecond) // let the last deadlines pass and fire
		stop()
		<-done
		if len(lat) < sent {
			b.Fatalf("%d of %d breaches fired", len(lat), sent)
		}
		slices.Sort(lat)
		q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		b.ReportMetric(q(0.5), "p50-ms")
		b.ReportMetric(q(0.99), "p99-ms")
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
		b.ReportMetric(float64(sent), "breaches")
	}
}

func envInt(b *testing.B, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		return n
	}
	return def
}
