package api_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/ingest/ingesttest"
	"github.com/teplokarta/teplokarta/internal/hostile"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/sla"
	"github.com/teplokarta/teplokarta/processor/sla/api"
	"github.com/teplokarta/teplokarta/processor/sla/auth"
	"github.com/teplokarta/teplokarta/processor/sla/clock"
	"github.com/teplokarta/teplokarta/processor/sla/policy"
)

// TestHostileCorpusSLA replays the hostile corpus against the SLA API with a running engine on the real
// broker, ClickHouse and Redis. Without a valid token — none, or the case itself as the token — every
// request is a 401, logged, and no command reaches appeals.status. With a curator's token, each case as a
// command body, as the appeal id, as the action and as list parameters: no answer is a 5xx.
func TestHostileCorpusSLA(t *testing.T) {
	if testing.Short() {
		t.Skip("replays the whole corpus")
	}
	cases, err := hostile.Cases()
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	defer rdb.Close()
	pol, _ := policy.New(policy.DefaultConfig())
	clk := clock.NewFake(time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC))
	b := testenv.Broker(t)
	cfg := sla.DefaultConfig()
	cfg.KeyPrefix, cfg.Brokers, cfg.Group = prefix, []string{b.Addr()}, "hostile-"+prefix
	logs := &syncWriter{w: &bytes.Buffer{}}
	log := slog.New(slog.NewTextHandler(logs, nil))
	eng, err := sla.New(cfg, rdb, ch, pol, clk, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- eng.Run(runCtx) }()
	defer func() { stop(); <-done }()
	tokens, err := auth.New(auth.File{Agencies: map[string][]string{"ЖКХ-Рязань": {zhkh}}, Curators: map[string][]string{"ivanova": {curator}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	reg := prometheus.NewRegistry()
	api.New(eng, tokens, log, 2*time.Second).WithMetrics(api.NewMetrics(reg)).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	send := func(method, path, token string, body []byte) (int, string) {
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return 0, ""
		}
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil && len(body) > serverDrains && (errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
			return cutOff, ""
		}
		if err != nil {
			t.Errorf("%s %.80q: %v", method, path, err)
			return 0, ""
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	statusRecords := func() int64 { return ingesttest.Count(t, b.Addr(), model.TopicStatus) }

	before := statusRecords()
	var mu sync.Mutex // guards the tallies: the cases run a few at once (send reports with Errorf)
	refused, unauthorized, cut := 0, 0, 0
	eachCase(cases, func(c hostile.Case) {
		s := c.String()
		for _, tok := range []string{"", "Bearer " + headerSafe(s)} {
			for _, path := range []string{"/v1/appeals/vk:1/take", "/v1/appeals/" + url.PathEscape(s)} {
				method := http.MethodPost
				if !strings.HasSuffix(path, "/take") {
					method = http.MethodGet
				}
				if len(tok) > 64<<10 {
					continue // beyond what an HTTP server accepts in a header (431), not the API's concern
				}
				code, ans := send(method, path, tok, c.Body)
				mu.Lock()
				switch {
				case code == http.StatusUnauthorized:
					unauthorized++
				case code == cutOff: // answered (401, or 431/404 below) without the body, but the client saw only the reset
					cut++
				// Go's server and router answer these before any handler runs: a request line or header
				// over 1 MiB, an empty appeal id.
				case code == http.StatusRequestHeaderFieldsTooLarge, code == http.StatusNotFound && strings.HasPrefix(ans, "404 page not found"):
				default:
					t.Errorf("%s %s without a valid token: %d %.200s, want 401", c.Name, path, code, ans)
				}
				refused++
				mu.Unlock()
			}
		}
	})
	if n := statusRecords() - before; n != 0 {
		t.Fatalf("%d commands reached appeals.status from %d unauthenticated requests", n, refused)
	}
	// A request cut off may have been answered 401 (logged and counted) or refused by the router first.
	if logged := strings.Count(logs.String(), "unauthenticated request refused"); logged < unauthorized || logged > unauthorized+cut {
		t.Errorf("%d requests answered 401 (%d more cut off), %d logged", unauthorized, cut, logged)
	}
	if counted := answersCounted(t, reg, "401"); counted < float64(unauthorized) || counted > float64(unauthorized+cut) {
		t.Errorf("%d requests answered 401 (%d more cut off), %v counted in sla_api_requests_total{code=\"401\"}", unauthorized, cut, counted)
	}

	answers := map[int]int{}
	eachCase(cases, func(c hostile.Case) {
		s := c.String()
		id, act := url.PathEscape(s), url.PathEscape(s)
		for _, r := range []struct{ method, path string }{
			{http.MethodPost, "/v1/appeals/vk:1/comment"},
			{http.MethodPost, "/v1/appeals/" + id + "/take"},
			{http.MethodPost, "/v1/appeals/vk:1/" + act},
			{http.MethodGet, "/v1/appeals?since=" + url.QueryEscape(s) + "&limit=" + url.QueryEscape(s) + "&agency=" + url.QueryEscape(s)},
		} {
			code, ans := send(r.method, r.path, "Bearer "+curator, c.Body)
			mu.Lock()
			answers[code]++
			mu.Unlock()
			if code >= 500 {
				t.Errorf("%s %s %.80q: %d %.200s", c.Name, r.method, r.path, code, ans)
			}
		}
	})
	t.Logf("%d cases; %d requests without a valid token refused (%d by the API with 401, each logged; %d cut off), none reached Kafka; curator's answers by status (%d: cut off): %v",
		len(cases), refused, unauthorized, cut, cutOff, answers)
}

// A server that answers before reading a large body drains at most serverDrains of it (net/http) and then
// closes the connection; a client still writing that body may see EPIPE or ECONNRESET instead of the answer
// (the client side of golang/go#11745). For such a body that is a refusal, and send reports it as cutOff.
// A smaller body is always read or drained, so any transport error on it is a failure.
const (
	serverDrains = 256 << 10
	cutOff       = -1
)

// eachCase runs fn for every case, four at a time: each request waits on a round trip (Kafka, the
// engine, ClickHouse), and an API serves concurrent clients anyway.
func eachCase(cases []hostile.Case, fn func(hostile.Case)) {
	next := make(chan hostile.Case)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				fn(c)
			}
		}()
	}
	for _, c := range cases {
		next <- c
	}
	close(next)
	wg.Wait()
}

// headerSafe keeps what an HTTP client can put in a header value (no control bytes, valid UTF-8).
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}

// answersCounted sums sla_api_requests_total over routes for one status code.
func answersCounted(t *testing.T, reg prometheus.Gatherer, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "sla_api_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "code" && l.GetValue() == code {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}
