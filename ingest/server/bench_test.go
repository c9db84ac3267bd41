package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/ingest/ingesttest"
)

// Realistic «Наш дом» records (~450 bytes), distinct ids so keys spread over partitions.
func benchPayload(i int) []byte {
	return fmt.Appendf(nil, `{"id":%d,"created_at":"2026-11-26T09:12:44+03:00","text":"На улице Гагарина у дома %d не работает уличное освещение, вечером очень темно, дети ходят в школу. Просим принять меры.","category":"Уличное освещение","theme":"Неисправность уличного освещения","executor":"Управление энергетики и ЖКХ","address":"г. Рязань, ул. Гагарина, %d","lat":54.6198,"lon":39.7551}`, 1000000+i, i%200, i%200)
}

// cpuTime is this process's user+system CPU time. The benchmarks run client, ingest and the embedded
// broker in one process on a shared machine, so appeals per CPU-second is the number that survives
// other load; wall-clock rates are reported too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchServer(b *testing.B) string {
	_, w := ingesttest.Broker(b)
	s, _ := start(b, ingest.DefaultConfig(), w)
	return s.URL
}

// BenchmarkBatchEndpoint: appeals/s through POST /v1/ingest/{source}/batch (1000 lines per request, 4
// clients), each request answered after Kafka acknowledged all its records.
func BenchmarkBatchEndpoint(b *testing.B) {
	url := benchServer(b) + "/v1/ingest/nashdom/batch"
	const lines, clients = 1000, 4
	bodies := make([][]byte, 8)
	for k := range bodies {
		var buf bytes.Buffer
		for i := 0; i < lines; i++ {
			buf.Write(benchPayload(k*lines + i))
			buf.WriteByte('\n')
		}
		bodies[k] = buf.Bytes()
	}
	requests := (b.N + lines - 1) / lines
	var next atomic.Int64
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := next.Add(1) - 1
				if k >= int64(requests) {
					return
				}
				resp, err := http.Post(url, "application/x-ndjson", bytes.NewReader(bodies[k%int64(len(bodies))]))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	el, cpu := time.Since(start), cpuTime()-cpu0
	b.ReportMetric(float64(requests*lines)/el.Seconds(), "appeals/s")
	b.ReportMetric(float64(requests*lines)/cpu.Seconds(), "appeals/cpu_s")
}

// BenchmarkWebhook: single-message POST /v1/ingest/{source} from 8 and 64 concurrent clients; reports
// requests/s and the latency percentiles of a call (each one waits for Kafka's ack).
func BenchmarkWebhook(b *testing.B) {
	url := benchServer(b) + "/v1/ingest/nashdom"
	for _, clients := range []int{8, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchWebhook(b, url, clients) })
	}
}

func benchWebhook(b *testing.B, url string, clients int) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	pool := make([][]byte, 4096)
	for i := range pool {
		pool[i] = benchPayload(i)
	}
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	ctx := context.Background()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(pool[i%int64(len(pool))]))
				req.Header.Set("Content-Type", "application/json")
				resp, err := cl.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != 202 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	el, cpu := time.Since(start), cpuTime()-cpu0
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/el.Seconds(), "webhooks/s")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "webhooks/cpu_s")
	b.ReportMetric(float64(lat[len(lat)*50/100].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
}
