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
	"syscall"
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

// BenchmarkProcessBinaryHorizon runs the real `teplokarta process` binary (and the broker, each in its own
// process) over a backlog whose event times all fall inside one dedup horizon (48 h), and reports the
// processor's throughput, its peak resident memory (VmHWM), its CPU per appeal and the Redis memory the
// dedup state took per appeal. TEPLOKARTA_BENCH_HORIZON_APPEALS sets the backlog (default 1,000,000:
// ≈ 40 h of a region writing 7 appeals a second). TEPLOKARTA_BENCH_METRICS_ADDR serves the processor's
// /metrics and /debug/pprof/ while it runs.
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
		cmd := exec.Command(buildProcessor(b), "process", "--brokers", broker, "--group", "bench",
			"--clickhouse-addr", os.Getenv(testenv.EnvClickHouse), "--clickhouse-database", cfg.Database,
			"--redis-addr", os.Getenv(testenv.EnvRedis), "--redis-prefix", prefix, "--metrics-addr", os.Getenv("TEPLOKARTA_BENCH_METRICS_ADDR"))
		var out strings.Builder
		cmd.Stderr = &out
		servers := sampleServers(b, map[string]string{"broker": broker,
			"redis": os.Getenv(testenv.EnvRedis), "clickhouse": os.Getenv(testenv.EnvClickHouse)})
		b.StartTimer()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		waitRows(b, conn, truth.Appeals, 30*time.Minute)
		el := time.Since(start)
		b.StopTimer()
		hwm, cpu := procStatus(b, cmd.Process.Pid)
		total := cpu
		for _, s := range servers {
			used := s.used(b)
			total += used
			b.ReportMetric(used.Seconds()*1e6/float64(truth.Messages), s.name+"-cpu-µs/appeal")
		}
		b.ReportMetric(total.Seconds()*1e6/float64(truth.Messages), "all-cpu-µs/appeal")
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			b.Fatalf("processor: %v\n%s", err, tail(out.String(), 2000))
		}
		b.ReportMetric(float64(truth.Messages)/el.Seconds(), "appeals/s")
		b.ReportMetric(float64(hwm)/1024, "peak-rss-MB")
		b.ReportMetric(cpu.Seconds()*1e6/float64(truth.Messages), "cpu-µs/appeal")
		b.ReportMetric(float64(testenv.RedisUsedMemory(b, rdb)-before)/float64(truth.Appeals), "redis-B/appeal")
	}
}

// serverCPU is the CPU time a local server process used since it was sampled.
type serverCPU struct {
	name  string
	pid   int
	start time.Duration
}

// sampleServers samples the servers behind addrs that run on this machine; a remote one is left out (its
// CPU is not this machine's cost).
func sampleServers(t testing.TB, addrs map[string]string) []serverCPU {
	t.Helper()
	var out []serverCPU
	for name, addr := range addrs {
		pid, err := testenv.ListenerPID(addr)
		if errors.Is(err, testenv.ErrNotLocal) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		cpu, err := testenv.ProcessCPU(pid)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, serverCPU{name, pid, cpu})
	}
	slices.SortFunc(out, func(a, b serverCPU) int { return strings.Compare(a.name, b.name) })
	return out
}

func (s serverCPU) used(t testing.TB) time.Duration {
	t.Helper()
	cpu, err := testenv.ProcessCPU(s.pid)
	if err != nil {
		t.Fatal(err)
	}
	return cpu - s.start
}

// procStatus reads a running process's peak resident set (KiB) and the CPU time it used so far.
func procStatus(t testing.TB, pid int) (hwmKiB int64, cpu time.Duration) {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			hwmKiB, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return hwmKiB, time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}
