package kafkax_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// answering listens on a free port and answers every connection with reply (nil: close at once).
func answering(t *testing.T, reply []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if reply != nil {
				buf := make([]byte, 64)
				_, _ = c.Read(buf)
				_, _ = c.Write(reply)
			}
			c.Close()
		}
	}()
	return ln.Addr().String()
}

func TestProbe(t *testing.T) {
	broker := testenv.Broker(t)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	t.Cleanup(web.Close)
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := free.Addr().String()
	free.Close()
	for _, tc := range []struct {
		name     string
		addr     string
		notKafka bool // ErrNotKafka; else ok unless unreachable
		ok       bool
	}{
		{"the embedded broker", broker.Addr(), false, true},
		{"an HTTP server", strings.TrimPrefix(web.URL, "http://"), true, false},
		{"a Redis-like error line", answering(t, []byte("-ERR unknown command\r\n")), true, false},
		{"a short answer", answering(t, []byte{0, 0}), true, false},
		{"a frame with another correlation id", answering(t, []byte{0, 0, 0, 10, 0, 0, 0, 1, 0, 0}), true, false},
		{"a server that hangs up", answering(t, nil), false, false},
		{"nothing listening", closed, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := kafkax.Probe(ctx, tc.addr, kafkax.Security{})
			if got := errors.Is(err, kafkax.ErrNotKafka); got != tc.notKafka {
				t.Errorf("Probe(%s) = %v: ErrNotKafka %v, want %v", tc.addr, err, got, tc.notKafka)
			}
			if (err == nil) != tc.ok {
				t.Errorf("Probe(%s) = %v, want ok %v", tc.addr, err, tc.ok)
			}
		})
	}
}

// A broker list that points at an HTTP port (the ClickHouse or Grafana one, say) fails at once with a
// clear error, instead of kafka-go decoding the HTTP answer as a Kafka response: 4.6 GB allocated in
// five seconds, then "context deadline exceeded".
func TestWaitReadyOnAnHTTPPort(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	t.Cleanup(web.Close)
	broker := testenv.Broker(t)
	addr := strings.TrimPrefix(web.URL, "http://")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	began := time.Now()
	err := kafkax.WaitReady(ctx, []string{addr}, kafkax.Security{})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, kafkax.ErrNotKafka) || !strings.Contains(err.Error(), addr) {
		t.Errorf("WaitReady = %v, want ErrNotKafka naming %s", err, addr)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("WaitReady took %s to give up on a non-Kafka address", took)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("WaitReady allocated %d MB", alloc>>20)
	}
	// One wrong address among good ones is still a mistake to report, not one to ride out.
	if err := kafkax.WaitReady(ctx, []string{broker.Addr(), addr}, kafkax.Security{}); !errors.Is(err, kafkax.ErrNotKafka) {
		t.Errorf("WaitReady on the broker and the HTTP port = %v, want ErrNotKafka", err)
	}
	if err := kafkax.WaitReady(ctx, []string{broker.Addr()}, kafkax.Security{}); err != nil {
		t.Errorf("WaitReady on the broker alone: %v", err)
	}
}
