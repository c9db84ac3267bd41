package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSLAServeListeners: `sla serve` on the real broker, ClickHouse and Redis serves the executor API
// (published to the agencies) without /metrics or profiles; metrics are on --metrics-addr, profiles only
// on --debug-addr.
func TestSLAServeListeners(t *testing.T) {
	_, chCfg := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	b := testenv.Broker(t)
	apiAddr, metricsAddr, debugAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	env := &cli.Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" },
		Log: slog.New(slog.DiscardHandler), Version: "test"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runSLAServe(ctx, env, []string{"--brokers", b.Addr(), "--clickhouse-addr", chCfg.Addr, "--clickhouse-database", chCfg.Database,
			"--redis-addr", testenv.RedisAddr(t), "--redis-prefix", prefix, "--tokens", filepath.Join("..", "..", "deploy", "sla-tokens.example.yaml"),
			"--listen", apiAddr, "--metrics-addr", metricsAddr, "--debug-addr", debugAddr})
	}()
	defer func() { cancel(); <-done }()
	// Start-up readiness, not a speed assertion: wait until the API answers or the command failed.
	for ready := false; !ready; {
		select {
		case err := <-done:
			t.Fatalf("sla serve stopped: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if resp, err := http.Get("http://" + debugAddr + "/debug/pprof/"); err == nil {
			resp.Body.Close()
			ready = true // the debug listener starts last
		}
	}
	for _, tc := range []struct {
		name, url string
		code      int
		want      string
	}{
		{"API health", "http://" + apiAddr + "/healthz", 200, "ok"},
		{"no metrics on the API", "http://" + apiAddr + "/metrics", 404, ""},
		{"no profiles on the API", "http://" + apiAddr + "/debug/pprof/", 404, ""},
		{"no heap profile on the API", "http://" + apiAddr + "/debug/pprof/heap", 404, ""},
		{"metrics", "http://" + metricsAddr + "/metrics", 200, "go_goroutines"},
		{"no profiles on the metrics listener", "http://" + metricsAddr + "/debug/pprof/", 404, ""},
		{"profiles on the debug listener", "http://" + debugAddr + "/debug/pprof/heap?debug=1", 200, "heap profile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := httpGet(t, tc.url)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("GET %s: %d %.120q, want %d with %q", tc.url, code, body, tc.code, tc.want)
			}
		})
	}
}

// TestDebugAddrMustBeLoopback: a command refuses --debug-addr on an address others could reach.
func TestDebugAddrMustBeLoopback(t *testing.T) {
	for _, args := range [][]string{
		{"broker", "--port", "0", "--data-dir", "", "--metrics-addr", "", "--debug-addr", ":0"},
		{"broker", "--port", "0", "--data-dir", "", "--metrics-addr", "", "--debug-addr", "0.0.0.0:0"},
	} {
		code, out := runMain(t, nil, args...)
		if code == 0 || !strings.Contains(out, "loopback") {
			t.Errorf("%v: exit %d, want a refusal naming loopback:\n%s", args, code, out)
		}
	}
}
