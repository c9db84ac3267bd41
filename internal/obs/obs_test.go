package obs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestHandler(t *testing.T) {
	reg := NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "teplokarta_test_events_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	var sick error
	srv := httptest.NewServer(Handler(reg, func(context.Context) error { return sick }))
	defer srv.Close()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, path string
		sick       error
		code       int
		contains   string
	}{
		{"metrics", "/metrics", nil, 200, "teplokarta_test_events_total 3"},
		{"go runtime metrics", "/metrics", nil, 200, "go_memstats_heap_alloc_bytes"},
		{"healthy", "/healthz", nil, 200, "ok"},
		{"unhealthy", "/healthz", errors.New("clickhouse: connection refused"), 503, "clickhouse: connection refused"},
		// Profiles are never on the metrics listener (Prometheus's port is published to the network).
		{"no profiles index", "/debug/pprof/", nil, 404, ""},
		{"no heap profile", "/debug/pprof/heap?debug=1", nil, 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sick = tc.sick
			code, body := get(tc.path)
			if code != tc.code || !strings.Contains(body, tc.contains) {
				t.Fatalf("GET %s: %d %.200q, want %d containing %q", tc.path, code, body, tc.code, tc.contains)
			}
		})
	}
}

func TestRegisterNamesTheComponent(t *testing.T) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "teplokarta_test_total", Help: "test"})
	if err := Register(nil, "sink", c); err != nil {
		t.Fatalf("nil registry: %v", err)
	}
	reg := prometheus.NewRegistry()
	if err := Register(reg, "sink", c); err != nil {
		t.Fatal(err)
	}
	err := Register(reg, "sink", c)
	if err == nil || !strings.HasPrefix(err.Error(), "sink: register metrics:") {
		t.Fatalf("second registration: %v, want an error naming the sink", err)
	}
}

// TestServeDebug: the profiles are off without an address and served only on a loopback IP.
func TestServeDebug(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	for _, addr := range []string{":0", "0.0.0.0:0", "[::]:0", "localhost:0", "10.1.2.3:0", "nonsense"} {
		if got, err := ServeDebug(ctx, addr, log); err == nil {
			t.Errorf("ServeDebug(%q) listens on %s, want a refusal", addr, got)
		}
	}
	if got, err := ServeDebug(ctx, "", log); err != nil || got != "" {
		t.Errorf("ServeDebug(\"\") = %q, %v; want off", got, err)
	}
	got, err := ServeDebug(ctx, "127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + got + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "heap profile") {
		t.Fatalf("heap profile on %s: %d %.100q", got, resp.StatusCode, b)
	}
}
