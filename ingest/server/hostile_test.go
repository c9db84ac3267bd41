package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/teplokarta/teplokarta/ingest/ingesttest"
	"github.com/teplokarta/teplokarta/ingest/server"
	"github.com/teplokarta/teplokarta/internal/hostile"
	"github.com/teplokarta/teplokarta/internal/model"
)

// rejectedTotal sums teplokarta_ingest_rejected_total over all its series.
func rejectedTotal(t *testing.T, g prometheus.Gatherer) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == "teplokarta_ingest_rejected_total" {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

// hostileSend posts one case and returns the status and answer.
func hostileSend(t *testing.T, url string, c hostile.Case, hdr ...string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(c.Body))
	if err != nil {
		t.Fatal(err)
	}
	if c.ContentType != "" {
		req.Header.Set("Content-Type", c.ContentType)
	}
	if c.ContentEncoding != "" {
		req.Header.Set("Content-Encoding", c.ContentEncoding)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.Name, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestHostileCorpusIngest replays the hostile corpus against every ingest door over real HTTP with a real
// Kafka-protocol broker. First without valid credentials — token and HMAC sources without or with a wrong
// credential, the VK callback with a wrong secret, batches included: every request is refused with a 4xx
// and counted, and nothing at all reaches Kafka. Then with credentials: no answer is a 5xx, every non-2xx
// answer and every rejected batch line is counted in teplokarta_ingest_rejected_total.
func TestHostileCorpusIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the whole corpus")
	}
	cases, err := hostile.Cases()
	if err != nil {
		t.Fatal(err)
	}
	addr, w := ingesttest.Broker(t)
	cfg := testConfig()
	delete(cfg.Sources, "nashdom") // no rate limit: every case must reach the door's later checks
	s, reg := start(t, cfg, w)
	topics := []string{model.TopicDLQ, model.TopicStatus}
	for _, src := range model.KnownSources {
		topics = append(topics, model.RawTopic(src))
	}
	stored := func() int64 {
		var n int64
		for _, tp := range topics {
			n += ingesttest.Count(t, addr, tp)
		}
		return n
	}

	unauthorized := []struct {
		path string
		hdr  func(hostile.Case) []string
	}{
		{"/v1/ingest/112", func(hostile.Case) []string { return nil }},
		{"/112/cards", func(hostile.Case) []string { return []string{"Authorization", "Bearer wrong"} }},
		{"/v1/ingest/112/batch", func(hostile.Case) []string { return []string{"Authorization", "Bearer wrong"} }},
		{"/v1/ingest/pos", func(hostile.Case) []string { return nil }},
		{"/pos/webhook", func(c hostile.Case) []string { return []string{"X-Signature", server.Sign("wrong-key", c.Body)} }},
		{"/v1/ingest/pos/batch", func(hostile.Case) []string { return []string{"X-Signature", "sha256=00"} }},
		{"/vk/callback", nil}, // the body with a wrong secret (below)
	}
	before := rejectedTotal(t, reg)
	requests := 0
	for _, d := range unauthorized {
		for _, c := range cases {
			var code int
			var ans []byte
			if d.hdr == nil {
				wrong := c
				wrong.Body = bytes.ReplaceAll(c.Body, []byte(`"s3cr3t"`), []byte(`"wrong-secret"`))
				code, ans = hostileSend(t, s.URL+d.path, wrong)
			} else {
				code, ans = hostileSend(t, s.URL+d.path, c, d.hdr(c)...)
			}
			requests++
			if code < 400 || code >= 500 {
				t.Errorf("unauthorized %s %s: %d %.200s, want a 4xx refusal", d.path, c.Name, code, ans)
			}
		}
	}
	if n := stored(); n != 0 {
		t.Fatalf("%d records reached Kafka from %d unauthorized requests", n, requests)
	}
	if got := rejectedTotal(t, reg) - before; got != float64(requests) {
		t.Errorf("unauthorized requests: %d refused, %v counted", requests, got)
	}

	authorized := []struct {
		path  string
		batch bool
		hdr   func(hostile.Case) []string
	}{
		{"/v1/ingest/nashdom", false, func(hostile.Case) []string { return nil }},
		{"/v1/ingest/vk", false, func(hostile.Case) []string { return nil }},
		{"/v1/ingest/112", false, func(hostile.Case) []string { return []string{"Authorization", "Bearer t112"} }},
		{"/pos/webhook", false, func(c hostile.Case) []string { return []string{"X-Signature", server.Sign("pos-key", c.Body)} }},
		{"/v1/ingest/nashdom/batch", true, func(hostile.Case) []string { return nil }},
		{"/vk/callback", false, func(hostile.Case) []string { return nil }},
	}
	answers := map[int]int{}
	for _, d := range authorized {
		before := rejectedTotal(t, reg)
		refused := 0
		for _, c := range cases {
			code, ans := hostileSend(t, s.URL+d.path, c, d.hdr(c)...)
			answers[code]++
			if code >= 500 {
				t.Errorf("%s %s: %d %.200s", d.path, c.Name, code, ans)
				continue
			}
			if code >= 400 {
				refused++
			}
			if d.batch && code == http.StatusOK {
				var a struct{ Rejected []json.RawMessage }
				if err := json.Unmarshal(ans, &a); err != nil {
					t.Errorf("%s %s: answer %.200s: %v", d.path, c.Name, ans, err)
				}
				refused += len(a.Rejected)
			}
		}
		got := rejectedTotal(t, reg) - before
		// The VK callback answers "ok" to authenticated events it dead-letters (VK must not resend them),
		// so it counts more rejections than it answers with a 4xx.
		if got != float64(refused) && !(d.path == "/vk/callback" && got >= float64(refused)) {
			t.Errorf("%s: %d rejections answered, %v counted", d.path, refused, got)
		}
	}
	// Dead letters carry their reason header by construction (ingest/ingestor_test.go checks it); reading
	// back the hundreds of megabytes of oversize bodies here would only test the broker.
	t.Logf("%d cases; unauthorized: %d requests refused, nothing stored; authorized answers by status: %v; stored records: %d",
		len(cases), requests, answers, stored())
}
