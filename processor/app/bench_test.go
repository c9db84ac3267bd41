package app_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	tkmodel "github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/app"
	"github.com/teplokarta/teplokarta/processor/enrich"
)

// BenchmarkReplayThroughput replays a backlog of simulated appeals through the processor in the test
// process (the broker runs as its own process) and reports appeals/s and the CPU each process spent per
// appeal. Its sub-benchmarks take stages out, to show what the rest costs on its own:
//
//   - stages=all: Kafka → normalize → classify → resolve → route → dedup (Redis) → windows → ClickHouse;
//   - stages=no-classify: the same, enriched by the municipality resolver alone;
//   - stages=no-dedup: an in-memory set of ids instead of Redis (every appeal its own incident);
//   - stages=floor: neither: Kafka → normalize → resolve → windows → ClickHouse, the least any
//     processor must do, so its rate bounds the whole one's on this machine.
//
// TEPLOKARTA_BENCH_APPEALS sets the backlog (default 20,000); -cpuprofile profiles the processor alone.
// TEPLOKARTA_BATCH_SIZE and TEPLOKARTA_MAX_IN_FLIGHT override those settings, as they do the binary's.
func BenchmarkReplayThroughput(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("TEPLOKARTA_BENCH_APPEALS")); err == nil && v > 0 {
		n = v
	}
	for _, bc := range []struct {
		name              string
		classify, inRedis bool
	}{
		{"stages=all", true, true},
		{"stages=no-classify", false, true},
		{"stages=no-dedup", true, false},
		{"stages=floor", false, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				broker := startBroker(b)
				conn, _ := testenv.ClickHouse(b)
				o := app.DefaultOptions()
				o.Pipeline.Brokers, o.Pipeline.GroupID = []string{broker}, "bench"
				envInt(b, "TEPLOKARTA_BATCH_SIZE", &o.Pipeline.BatchSize)
				envInt(b, "TEPLOKARTA_MAX_IN_FLIGHT", &o.Pipeline.MaxInFlight)
				reg := prometheus.NewRegistry()
				c := app.Clients{ClickHouse: conn, Registerer: reg}
				if bc.inRedis {
					c.Redis, o.Dedup.KeyPrefix = testenv.Redis(b)
				} else {
					o.Deduper = &firstOfEachID{seen: map[string]bool{}}
				}
				if bc.classify {
					// What the binary ships, loaded afresh: its prediction cache must not start warm
					// with the previous run's texts (the same seed simulates the same ones).
					st, err := enrich.Load("", "", "")
					if err != nil {
						b.Fatal(err)
					}
					o.Enrich = st
				}
				truth := simulate(b, broker, uint64(i+1), n, time.Now().Add(-30*24*time.Hour).Truncate(time.Hour))
				eng, err := app.Build(o, c)
				if err != nil {
					b.Fatal(err)
				}
				addrs := map[string]string{"broker": broker, "clickhouse": os.Getenv(testenv.EnvClickHouse)}
				if bc.inRedis {
					addrs["redis"] = os.Getenv(testenv.EnvRedis)
				}
				servers := sampleServers(b, addrs)
				processor := testenv.CPUSince(b, os.Getpid())
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				b.StartTimer()
				start := time.Now()
				go func() { done <- eng.Run(ctx) }()
				waitRows(b, conn, truth.Appeals, 10*time.Minute)
				el := time.Since(start)
				b.StopTimer()
				cpu := processor()
				cancel()
				if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
					b.Fatal(err)
				}
				reportCPU(b, cpu, servers, truth.Messages)
				b.ReportMetric(float64(truth.Messages)/el.Seconds(), "appeals/s")
				b.ReportMetric(meanOf(b, reg, "teplokarta_sink_insert_rows"), "rows/insert")
			}
		})
	}
}

// envInt sets *v from the environment variable name when it is set.
func envInt(b *testing.B, name string, v *int) {
	b.Helper()
	if text := os.Getenv(name); text != "" {
		n, err := strconv.Atoi(text)
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		*v = n
	}
}

// firstOfEachID is the least a deduper can do and still store each appeal once: it drops repeated ids
// (client retries) from memory and makes every other appeal an incident of its own.
type firstOfEachID struct {
	mu   sync.Mutex // partitions' batches arrive concurrently
	seen map[string]bool
}

func (f *firstOfEachID) Dedup(_ context.Context, batch []*tkmodel.Appeal) ([]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	keep := make([]bool, len(batch))
	for i, a := range batch {
		if f.seen[a.ID] {
			continue
		}
		f.seen[a.ID], keep[i] = true, true
		a.IncidentID, a.IsIncident = a.ID, true
	}
	return keep, nil
}

// meanOf returns the mean of a histogram in reg (ClickHouse's cost per row depends on rows per INSERT).
func meanOf(b *testing.B, reg *prometheus.Registry, name string) float64 {
	b.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			h := mf.GetMetric()[0].GetHistogram()
			return h.GetSampleSum() / float64(max(h.GetSampleCount(), 1))
		}
	}
	b.Fatalf("no histogram %s", name)
	return 0
}

// reportCPU reports the processor's and every sampled server's CPU per appeal, and their sum.
func reportCPU(b *testing.B, processor time.Duration, servers []serverCPU, appeals int) {
	b.Helper()
	total := processor
	for _, s := range servers {
		used := s.used()
		total += used
		b.ReportMetric(used.Seconds()*1e6/float64(appeals), s.name+"-cpu-µs/appeal")
	}
	b.ReportMetric(processor.Seconds()*1e6/float64(appeals), "cpu-µs/appeal")
	b.ReportMetric(total.Seconds()*1e6/float64(appeals), "all-cpu-µs/appeal")
}

// BenchmarkProcessBinaryHorizon runs the real `teplokarta process` binary (and the broker, each in its own
// process) over a backlog whose event times all fall inside one dedup horizon (48 h), and reports the
// processor's throughput, its peak resident memory (VmHWM), its CPU per appeal and the Redis memory the
// dedup state took per appeal. TEPLOKARTA_BENCH_HORIZON_APPEALS sets the backlog (default 1,000,000:
// ≈ 40 h of a region writing 7 appeals a second). TEPLOKARTA_BENCH_METRICS_ADDR serves the processor's
// /metrics and TEPLOKARTA_BENCH_DEBUG_ADDR its /debug/pprof/ while it runs (two listeners, as in production);
// TEPLOKARTA_BENCH_PROCESS_FLAGS adds flags to its command line (e.g. "--batch-size 5000 --max-in-flight 10000").
func BenchmarkProcessBinaryHorizon(b *testing.B) {
	n := 1000000
	if v, err := strconv.Atoi(os.Getenv("TEPLOKARTA_BENCH_HORIZON_APPEALS")); err == nil && v > 0 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		broker := startBroker(b)
		conn, cfg := testenv.ClickHouse(b)
		rdb, prefix := testenv.Redis(b)
		truth := simulateRate(b, broker, uint64(i+1), n, time.Now().Add(-60*time.Hour).Truncate(time.Hour), 7)
		before := testenv.RedisUsedMemory(b, rdb)
		args := []string{"process", "--brokers", broker, "--group", "bench",
			"--clickhouse-addr", os.Getenv(testenv.EnvClickHouse), "--clickhouse-database", cfg.Database,
			"--redis-addr", os.Getenv(testenv.EnvRedis), "--redis-prefix", prefix, "--metrics-addr", os.Getenv("TEPLOKARTA_BENCH_METRICS_ADDR"),
			"--debug-addr", os.Getenv("TEPLOKARTA_BENCH_DEBUG_ADDR"), "--local"}
		cmd := exec.Command(buildProcessor(b), append(args, strings.Fields(os.Getenv("TEPLOKARTA_BENCH_PROCESS_FLAGS"))...)...)
		var out strings.Builder
		cmd.Stderr = &out
		servers := sampleServers(b, map[string]string{"broker": broker,
			"redis": os.Getenv(testenv.EnvRedis), "clickhouse": os.Getenv(testenv.EnvClickHouse)})
		b.StartTimer()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		// A processor that exits early (a bad flag, a crash) fails the run at once, not after the stall bound.
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		waitRowsWhile(b, conn, truth.Appeals, 30*time.Minute, func() error {
			select {
			case err := <-exited:
				exited <- err
				return fmt.Errorf("the processor exited (%v): %s", err, tail(out.String(), 2000))
			default:
				return nil
			}
		})
		el := time.Since(start)
		b.StopTimer()
		hwm := peakRSS(b, cmd.Process.Pid)
		cpu, err := testenv.ProcessCPU(cmd.Process.Pid) // all of it: the process started with the timer
		if err != nil {
			b.Fatal(err)
		}
		reportCPU(b, cpu, servers, truth.Messages)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := <-exited; err != nil {
			b.Fatalf("processor: %v\n%s", err, tail(out.String(), 2000))
		}
		b.ReportMetric(float64(truth.Messages)/el.Seconds(), "appeals/s")
		b.ReportMetric(float64(hwm)/1024, "peak-rss-MB")
		b.ReportMetric(float64(testenv.RedisUsedMemory(b, rdb)-before)/float64(truth.Appeals), "redis-B/appeal")
		testenv.ReadDedupPayload(b, rdb, prefix).Report(b, truth.Appeals)
		reportInsertRows(b, conn)
		reportDisk(b, conn, truth.Appeals)
	}
}

// reportInsertRows reports the mean rows per INSERT into appeals, from the table itself: every INSERT
// stamps its rows with its own version, so it needs no metrics listener.
func reportInsertRows(b *testing.B, conn driver.Conn) {
	b.Helper()
	var rows, inserts uint64
	if err := conn.QueryRow(context.Background(), "SELECT count(), uniqExact(version) FROM appeals").Scan(&rows, &inserts); err != nil {
		b.Fatal(err)
	}
	if inserts > 0 {
		b.ReportMetric(float64(rows)/float64(inserts), "rows/insert")
	}
}

// reportDisk reports ClickHouse's bytes on disk per stored appeal with every table merged to one part per
// partition (what a database holding months of appeals approaches): of appeals alone, and of the database's
// other tables (rollups, progress, SLA). Rollups grow with their cells, not with appeals, so their figure
// holds for this backlog's rate only.
func reportDisk(b *testing.B, conn driver.Conn, appeals int) {
	b.Helper()
	ctx := context.Background()
	tables := testenv.MergeTrees(b, conn)
	for _, t := range tables {
		if err := conn.Exec(ctx, "OPTIMIZE TABLE "+t+" FINAL"); err != nil {
			b.Fatal(err)
		}
	}
	var app, other uint64
	if err := conn.QueryRow(ctx, "SELECT sumIf(bytes_on_disk, table = 'appeals'), sumIf(bytes_on_disk, table != 'appeals') "+
		"FROM system.parts WHERE active AND database = currentDatabase()").Scan(&app, &other); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(app)/float64(appeals), "ch-appeals-disk-B/appeal")
	b.ReportMetric(float64(other)/float64(appeals), "ch-other-disk-B/appeal")
}

// serverCPU is the CPU a local server process used since it was sampled.
type serverCPU struct {
	name string
	used func() time.Duration
}

// sampleServers samples the servers behind addrs that run on this machine; a remote one is left out.
func sampleServers(t testing.TB, addrs map[string]string) []serverCPU {
	t.Helper()
	var out []serverCPU
	for name, addr := range addrs {
		if used, ok := testenv.ServerCPU(t, addr); ok {
			out = append(out, serverCPU{name, used})
		}
	}
	slices.SortFunc(out, func(a, b serverCPU) int { return strings.Compare(a.name, b.name) })
	return out
}

// peakRSS reads a running process's peak resident set (VmHWM) in KiB.
func peakRSS(t testing.TB, pid int) (kib int64) {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		}
	}
	return kib
}
