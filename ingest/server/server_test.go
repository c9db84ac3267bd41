package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/ingest/ingesttest"
	"github.com/teplokarta/teplokarta/ingest/server"
	"github.com/teplokarta/teplokarta/ingest/vk"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "sources", "testdata", "payloads", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type env struct {
	addr string
	url  string
	srv  *httptest.Server
}

func testConfig() ingest.Config {
	cfg := ingest.DefaultConfig()
	cfg.Sources = map[string]ingest.SourceConfig{
		"pos":     {Auth: ingest.AuthConfig{Mode: ingest.AuthHMAC, Secret: "pos-key"}},
		"112":     {Auth: ingest.AuthConfig{Mode: ingest.AuthToken, Secret: "t112"}},
		"nashdom": {RateLimit: ingest.RateLimitConfig{PerSecond: 0.01, Burst: 3}},
	}
	cfg.VK = ingest.VKConfig{Confirmation: "a1b2c3", Secret: "s3cr3t", GroupIDs: []int64{71234567}}
	return cfg
}

func start(t testing.TB, cfg ingest.Config, w ingest.Writer) (*httptest.Server, *prometheus.Registry) {
	t.Helper()
	reg, err := cfg.Registry()
	if err != nil {
		t.Fatal(err)
	}
	v, err := ingest.NewSchemaValidator()
	if err != nil {
		t.Fatal(err)
	}
	preg := prometheus.NewRegistry()
	in := ingest.NewIngestor(reg, v, w, ingest.NewMetrics(preg), nil)
	s := httptest.NewServer(server.New(cfg, in, vk.NewCallback(cfg.VK, in, nil), preg, nil))
	t.Cleanup(s.Close)
	return s, preg
}

func post(t testing.TB, url, ct string, body []byte, hdr ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSingleEndpoints drives the generic and native single-message endpoints and reads back every topic.
func TestSingleEndpoints(t *testing.T) {
	addr, w := ingesttest.Broker(t)
	s, _ := start(t, testConfig(), w)
	pos := fixture(t, "pos_message.json")
	card := fixture(t, "112_card_cp1251.xml")
	nd := fixture(t, "nashdom_appeal.json")
	tests := []struct {
		name, path, ct string
		body           []byte
		hdr            []string
		code           int
		want           string // substring of the answer
		topic          string // where the body must be found ("" = nowhere)
	}{
		{"pos hmac ok", "/pos/webhook", "application/json", pos, []string{"X-Signature", server.Sign("pos-key", pos)}, 202, `"id":"pos:4401928"`, "appeals.raw.pos"},
		{"pos hmac wrong", "/v1/ingest/pos", "application/json", pos, []string{"X-Signature", server.Sign("other", pos)}, 403, `"forbidden"`, ""},
		{"pos hmac missing", "/v1/ingest/pos", "application/json", pos, nil, 401, `"unauthorized"`, ""},
		{"112 token xml cp1251", "/112/cards", "application/xml; charset=windows-1251", card, []string{"Authorization", "Bearer t112"}, 202, `"id":"112:112-62-2026-118843"`, "appeals.raw.112"},
		{"112 wrong token", "/112/cards", "application/xml", card, []string{"Authorization", "Bearer nope"}, 403, "forbidden", ""},
		{"nashdom webhook", "/nashdom/webhook", "application/json", nd, nil, 202, `"id":"nashdom:184467"`, "appeals.raw.nashdom"},
		{"nashdom retry same id", "/v1/ingest/nashdom", "application/json", nd, nil, 202, `"id":"nashdom:184467"`, "appeals.raw.nashdom"},
		{"nashdom status", "/nashdom/webhook", "application/json", fixture(t, "nashdom_status.json"), nil, 202, `"id":"nashdom:184467"`, ""},
		{"nashdom rate limited", "/nashdom/webhook", "application/json", nd, nil, 429, "rate_limited", ""},
		{"vk bad json", "/v1/ingest/vk", "application/json", []byte(`{"type":`), nil, 400, `"reason":"bad_json"`, "appeals.dlq"},
		{"vk future", "/v1/ingest/vk", "", []byte(`{"type":"wall_post_new","object":{"id":5,"owner_id":-1,"date":4102444800,"text":"x"}}`), nil, 422, `"reason":"bad_time"`, "appeals.dlq"},
		{"vk parser oversize", "/v1/ingest/vk", "", append([]byte(`{"type":"wall_post_new","object":{"text":"`), bytes.Repeat([]byte("a"), 300<<10)...), nil, 413, `"reason":"oversize"`, "appeals.dlq"},
		{"vk over door cap", "/v1/ingest/vk", "", bytes.Repeat([]byte("a"), 1<<20+1), nil, 413, `"reason":"oversize"`, ""},
		{"unknown source", "/v1/ingest/telegram", "", []byte(`{}`), nil, 404, "unknown_source", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, s.URL+tc.path, tc.ct, tc.body, tc.hdr...)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Fatalf("got %d %s, want %d %s", code, body, tc.code, tc.want)
			}
		})
	}
	found := func(topic string, body []byte) int {
		n := 0
		for _, m := range ingesttest.ReadAll(t, addr, topic) {
			if bytes.Equal(m.Value, body) {
				n++
				if ingesttest.Header(m, model.HeaderSource) == "" || ingesttest.Header(m, model.HeaderContentType) == "" {
					t.Errorf("%s record without headers: %v", topic, m.Headers)
				}
			}
		}
		return n
	}
	for _, tc := range tests {
		if tc.topic != "" && found(tc.topic, tc.body) == 0 {
			t.Errorf("%s: body not found on %s", tc.name, tc.topic)
		}
	}
	// The retry is on Kafka twice under the same key, so it lands on the same partition; the processor's
	// exact dedup by appeal id makes the repeat harmless.
	raw := ingesttest.ReadAll(t, addr, "appeals.raw.nashdom")
	if len(raw) != 2 || raw[0].Partition != raw[1].Partition || string(raw[0].Key) != "nashdom:184467" {
		t.Fatalf("nashdom raw records: %d", len(raw))
	}
	if n := ingesttest.Count(t, addr, model.TopicStatus); n != 1 {
		t.Fatalf("status records %d, want 1", n)
	}
	if n := ingesttest.Count(t, addr, model.TopicDLQ); n != 3 {
		t.Fatalf("dead letters %d, want 3", n)
	}
	// Every refusal is counted.
	_, metrics := get(t, s.URL+"/metrics")
	for _, want := range []string{
		`teplokarta_ingest_rejected_total{reason="forbidden",source="pos"} 1`,
		`teplokarta_ingest_rejected_total{reason="unauthorized",source="pos"} 1`,
		`teplokarta_ingest_rejected_total{reason="rate_limited",source="nashdom"} 1`,
		`teplokarta_ingest_rejected_total{reason="oversize",source="vk"} 2`,
		`teplokarta_ingest_rejected_total{reason="unknown_source",source="unknown"} 1`,
		`teplokarta_ingest_messages_total{outcome="status",source="nashdom"} 1`,
		`teplokarta_ingest_messages_total{outcome="appeal",source="112"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestBatchEndpoint(t *testing.T) {
	addr, w := ingesttest.Broker(t)
	s, _ := start(t, ingest.DefaultConfig(), w)
	good1 := `{"id":1,"created_at":"2026-11-26T10:00:00+03:00","text":"Яма на Первомайском проспекте"}`
	good2 := `{"id":2,"created_at":"2026-11-26T10:01:00+03:00","text":"Не убран снег во дворе"}`
	status := `{"event":"status_changed","id":1,"status":"resolved","changed_at":"2026-11-26T11:00:00+03:00"}`
	bad := `{"id":3,"created_at":"2026-11-26T10:00:00+03:00"}`
	body := good1 + "\r\n\n" + bad + "\n" + good2 + "\n" + status + "\n" + `not json` + "\n"
	code, ans := post(t, s.URL+"/v1/ingest/nashdom/batch", "application/x-ndjson", []byte(body))
	if code != 200 {
		t.Fatalf("%d %s", code, ans)
	}
	var got struct {
		Accepted int
		Rejected []struct {
			Line   int
			Reason string
		}
	}
	if err := json.Unmarshal([]byte(ans), &got); err != nil {
		t.Fatal(err)
	}
	if got.Accepted != 3 || len(got.Rejected) != 2 || got.Rejected[0].Line != 3 || !strings.HasPrefix(got.Rejected[0].Reason, "missing_field") ||
		got.Rejected[1].Line != 6 || !strings.HasPrefix(got.Rejected[1].Reason, "bad_json") {
		t.Fatalf("answer %s", ans)
	}
	raw := ingesttest.ReadAll(t, addr, "appeals.raw.nashdom")
	vals := map[string]bool{}
	for _, m := range raw {
		vals[string(m.Value)] = true
	}
	if len(raw) != 2 || !vals[good1] || !vals[good2] {
		t.Fatalf("raw %d records", len(raw))
	}
	if n := ingesttest.Count(t, addr, model.TopicDLQ); n != 2 {
		t.Fatalf("dlq %d", n)
	}
	if n := ingesttest.Count(t, addr, model.TopicStatus); n != 1 {
		t.Fatalf("status %d", n)
	}
	// Limits: too many lines is refused whole.
	cfg := ingest.DefaultConfig()
	cfg.Limits.MaxBatchLines = 2
	s2, _ := start(t, cfg, w)
	if code, ans := post(t, s2.URL+"/v1/ingest/nashdom/batch", "", []byte(good1+"\n"+good2+"\n"+good1)); code != 413 {
		t.Fatalf("%d %s", code, ans)
	}
}

func TestVKCallback(t *testing.T) {
	addr, w := ingesttest.Broker(t)
	s, _ := start(t, testConfig(), w)
	ev := fixture(t, "vk_wall_post_new.json") // carries "secret":"s3cr3t"
	tests := []struct {
		name string
		body []byte
		code int
		want string
	}{
		{"confirmation", []byte(`{"type":"confirmation","group_id":71234567}`), 200, "a1b2c3"},
		{"foreign group", []byte(`{"type":"confirmation","group_id":1}`), 403, "unknown group"},
		{"bad secret", bytes.Replace(ev, []byte("s3cr3t"), []byte("wrong"), 1), 403, "bad secret"},
		{"post", ev, 200, "ok"},
		{"unsupported event still ok", []byte(`{"type":"group_join","group_id":71234567,"secret":"s3cr3t","object":{"user_id":1}}`), 200, "ok"},
		{"not json", []byte(`hello`), 400, "not a VK"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, s.URL+"/vk/callback", "application/json", tc.body)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Fatalf("got %d %q", code, body)
			}
		})
	}
	raw := ingesttest.ReadAll(t, addr, "appeals.raw.vk")
	if len(raw) != 1 || !bytes.Equal(raw[0].Value, ev) || string(raw[0].Key) != "vk:wall-71234567_2841" {
		t.Fatalf("raw vk: %d records", len(raw))
	}
	// Only the authenticated unsupported event is a dead letter: the body that is not JSON carries no
	// group or secret, so it is refused and counted, never written (no unauthenticated writes to the DLQ).
	if n := ingesttest.Count(t, addr, model.TopicDLQ); n != 1 {
		t.Fatalf("dlq %d, want 1 (the unsupported event)", n)
	}
	if _, metrics := get(t, s.URL+"/metrics"); !strings.Contains(metrics, `teplokarta_ingest_rejected_total{reason="bad_json",source="vk"} 1`) {
		t.Error("the refused non-JSON body is not counted")
	}
}

type failingWriter struct{}

func (failingWriter) WriteMessages(context.Context, ...kafka.Message) error {
	return errors.New("broker unreachable")
}

// TestKafkaDownIs503: without an acknowledgement the client must not get a 2xx.
func TestKafkaDownIs503(t *testing.T) {
	t.Run("real broker stopped", func(t *testing.T) {
		b := testenv.Broker(t)
		pc := kafkax.DefaultProducerConfig()
		pc.Brokers = []string{b.Addr()}
		w, err := kafkax.NewWriter(pc)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		w.MaxAttempts, w.WriteBackoffMax = 2, 50*time.Millisecond
		s, _ := start(t, ingest.DefaultConfig(), w)
		if code, body := post(t, s.URL+"/v1/ingest/nashdom", "", fixture(t, "nashdom_appeal.json")); code != 202 {
			t.Fatalf("broker up: %d %s", code, body)
		}
		b.Close()
		if code, body := post(t, s.URL+"/v1/ingest/nashdom", "", fixture(t, "nashdom_appeal.json")); code != 503 {
			t.Fatalf("broker down: %d %s", code, body)
		}
	})
	s, _ := start(t, ingest.DefaultConfig(), failingWriter{})
	for _, path := range []string{"/v1/ingest/nashdom", "/v1/ingest/nashdom/batch"} {
		code, body := post(t, s.URL+path, "", fixture(t, "nashdom_appeal.json"))
		if code != 503 {
			t.Fatalf("%s: %d %s", path, code, body)
		}
	}
	code, body := post(t, s.URL+"/vk/callback", "", fixture(t, "vk_board_post_new.json"))
	if code != 500 {
		t.Fatalf("vk callback: %d %s", code, body)
	}
}

// blockingWriter holds every produce until its context ends, as a broker that has not answered yet.
type blockingWriter struct{ entered chan struct{} }

func (b blockingWriter) WriteMessages(ctx context.Context, _ ...kafka.Message) error {
	b.entered <- struct{}{}
	<-ctx.Done()
	return fmt.Errorf("produce: %w", ctx.Err())
}

// A client that hangs up while its message is being produced (or the simulator stopping with the
// process) is not a Kafka failure: it is logged as the client going away, not as a warning that the
// client will retry.
func TestClientGoneIsNotAKafkaFailure(t *testing.T) {
	var logged bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logged}, nil))
	reg, err := ingest.DefaultConfig().Registry()
	if err != nil {
		t.Fatal(err)
	}
	v, err := ingest.NewSchemaValidator()
	if err != nil {
		t.Fatal(err)
	}
	bw := blockingWriter{entered: make(chan struct{}, 1)}
	in := ingest.NewIngestor(reg, v, bw, ingest.NewMetrics(prometheus.NewRegistry()), nil)
	s := httptest.NewServer(server.New(ingest.DefaultConfig(), in, nil, prometheus.NewRegistry(), log))
	defer s.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/v1/ingest/nashdom", bytes.NewReader(fixture(t, "nashdom_appeal.json")))
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-bw.entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("client: %v, want its own cancellation", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		out := logged.String()
		mu.Unlock()
		if strings.Contains(out, "client went away") {
			if strings.Contains(out, "level=WARN") {
				t.Errorf("a client hanging up was logged as a warning:\n%s", out)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line about the client going away after 10 s:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
