package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/ingest/ingesttest"
	"github.com/teplokarta/teplokarta/internal/model"
)

// send starts a request whose body is read from body; the answer arrives on the channel. With
// expectContinue the client sends "Expect: 100-continue" and writes no body byte until the server asks
// for it, which Go's server does only when the handler first reads the body: a body reader that is never
// called proves the server answered without reading a byte.
func send(t *testing.T, url string, body io.Reader, length int64, expectContinue bool, hdr ...string) <-chan *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := http.DefaultClient
	if expectContinue {
		req.Header.Set("Expect", "100-continue")
		// The wait for "100 Continue" is not a speed assertion: it only has to outlast the answer.
		client = &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	}
	out := make(chan *http.Response, 1)
	go func() {
		defer cancel()
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s: %v", url, err)
			out <- nil
			return
		}
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		out <- resp
	}()
	return out
}

// readCounter counts the reads of a request body.
type readCounter struct {
	n   atomic.Int64
	src io.Reader
}

func (r *readCounter) Read(p []byte) (int, error) {
	r.n.Add(1)
	return r.src.Read(p)
}

// TestDoorAnswersBeforeReadingBody: a request without valid header credentials, or declaring a body over
// the source's cap, is answered before the server asks for its body: the client never sends a byte of it.
func TestDoorAnswersBeforeReadingBody(t *testing.T) {
	_, w := ingesttest.Broker(t)
	cfg := testConfig()
	sc := cfg.Sources["112"]
	sc.MaxBatchBytes = 4096
	cfg.Sources["112"] = sc
	s, _ := start(t, cfg, w)
	for _, tc := range []struct {
		name, path string
		length     int64
		hdr        []string
		code       int
		reason     string
	}{
		{"token missing", "/112/cards", 100, nil, 401, "unauthorized"},
		{"token wrong", "/v1/ingest/112", 100, []string{"Authorization", "Bearer nope"}, 403, "forbidden"},
		{"token wrong batch", "/v1/ingest/112/batch", 100, []string{"Authorization", "Bearer nope"}, 403, "forbidden"},
		{"hmac signature missing", "/pos/webhook", 100, nil, 401, "unauthorized"},
		{"hmac signature malformed", "/v1/ingest/pos", 100, []string{"X-Signature", "sha256=zz"}, 403, "forbidden"},
		{"declared size over the single cap", "/112/cards", 1 << 30, []string{"Authorization", "Bearer t112"}, 413, "oversize"},
		{"declared size over the source's batch cap", "/v1/ingest/112/batch", 5000, []string{"Authorization", "Bearer t112"}, 413, "oversize"},
		{"vk callback declared size over its cap", "/vk/callback", 1 << 30, nil, 413, "oversize"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &readCounter{src: strings.NewReader(strings.Repeat("x", int(min(tc.length, 1<<20))))}
			resp := <-send(t, s.URL+tc.path, body, tc.length, true, tc.hdr...)
			if resp == nil {
				t.Fatal("no answer")
			}
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.code)
			}
			if n := body.n.Load(); n != 0 {
				t.Errorf("the server asked for the body (%d reads) before refusing it", n)
			}
		})
	}
	_, metrics := get(t, s.URL+"/metrics")
	for _, want := range []string{
		`teplokarta_ingest_rejected_total{reason="unauthorized",source="112"} 1`,
		`teplokarta_ingest_rejected_total{reason="forbidden",source="112"} 2`,
		`teplokarta_ingest_rejected_total{reason="unauthorized",source="pos"} 1`,
		`teplokarta_ingest_rejected_total{reason="oversize",source="112"} 2`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// holdingWriter holds the first produce call until released, so a request is known to be inside the
// server (past the gate) without any timing.
type holdingWriter struct {
	ingest.Writer
	held             atomic.Bool
	entered, release chan struct{}
}

func (h *holdingWriter) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	if h.held.CompareAndSwap(false, true) {
		close(h.entered)
		<-h.release
	}
	return h.Writer.WriteMessages(ctx, msgs...)
}

// TestConcurrencyLimit: with one place, a request being processed holds it; a second one is answered 429
// "busy" and counted, and nothing of it is stored; once the first finishes, the next is served.
func TestConcurrencyLimit(t *testing.T) {
	addr, w := ingesttest.Broker(t)
	hw := &holdingWriter{Writer: w, entered: make(chan struct{}), release: make(chan struct{})}
	cfg := ingest.DefaultConfig()
	cfg.Limits.MaxConcurrentRequests = 1
	s, _ := start(t, cfg, hw)
	body := fixture(t, "nashdom_appeal.json")
	first := send(t, s.URL+"/nashdom/webhook", bytes.NewReader(body), int64(len(body)), false)
	<-hw.entered
	if code, ans := post(t, s.URL+"/v1/ingest/nashdom", "application/json", body); code != http.StatusTooManyRequests || !strings.Contains(ans, "busy") {
		t.Fatalf("second request: %d %s, want 429 busy", code, ans)
	}
	close(hw.release)
	if resp := <-first; resp == nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("first request: %v", resp)
	}
	if code, ans := post(t, s.URL+"/v1/ingest/nashdom", "application/json", body); code != http.StatusAccepted {
		t.Fatalf("after the first finished: %d %s", code, ans)
	}
	if n := ingesttest.Count(t, addr, model.RawTopic(model.SourceNashDom)); n != 2 {
		t.Fatalf("raw records %d, want 2", n)
	}
	if _, metrics := get(t, s.URL+"/metrics"); !strings.Contains(metrics, `teplokarta_ingest_rejected_total{reason="busy",source="nashdom"} 1`) {
		t.Error("the 429 is not counted")
	}
}
