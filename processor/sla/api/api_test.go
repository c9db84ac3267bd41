package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/sla"
	"github.com/teplokarta/teplokarta/processor/sla/api"
	"github.com/teplokarta/teplokarta/processor/sla/auth"
	"github.com/teplokarta/teplokarta/processor/sla/clock"
	"github.com/teplokarta/teplokarta/processor/sla/policy"
)

const (
	zhkh    = "zhkh-token-00000000001"
	roads   = "roads-token-0000000001"
	curator = "curator-token-00000001"
)

func TestAPIAuthorization(t *testing.T) {
	ch, _ := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	defer rdb.Close()
	pol, _ := policy.New(policy.DefaultConfig())
	clk := clock.NewFake(time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC))
	cfg := sla.DefaultConfig()
	cfg.KeyPrefix, cfg.Brokers, cfg.Group = prefix, []string{testenv.Broker(t).Addr()}, "api-"+prefix
	var logs bytes.Buffer
	sw := &syncWriter{w: &logs}
	log := slog.New(slog.NewTextHandler(sw, nil))
	eng, err := sla.New(cfg, rdb, ch, pol, clk, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- eng.Run(runCtx) }()
	defer func() { stop(); <-done }()

	tokens, err := auth.New(auth.File{Agencies: map[string][]string{"ЖКХ-Рязань": {zhkh}, "Дороги-Рязань": {roads}},
		Curators: map[string][]string{"ivanova": {curator}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.New(eng, tokens, log, 20*time.Second).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	if err := eng.Publish(ctx, model.StatusEvent{EventID: "created:vk:1", Type: model.EventCreated, AppealID: "vk:1",
		Source: "vk", Category: "ЖКХ", Agency: "ЖКХ-Рязань", Actor: "processor", ActorRole: model.RoleSystem,
		ReceivedTime: clk.Now(), EventTime: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := eng.Get(ctx, "vk:1"); err == nil {
			break
		} else if time.Now().After(end) {
			t.Fatal("appeal not created:", err)
		}
	}
	cases := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"no token", "POST", "/v1/appeals/vk:1/take", "", `{}`, 401, "unauthorized"},
		{"unknown token", "POST", "/v1/appeals/vk:1/take", "nope-nope-nope-nope", `{}`, 401, "unauthorized"},
		{"other agency may not take", "POST", "/v1/appeals/vk:1/take", roads, `{}`, 403, "forbidden"},
		{"other agency may not read", "GET", "/v1/appeals/vk:1", roads, ``, 403, "forbidden"},
		{"agency may not speak for another", "POST", "/v1/appeals/vk:1/take", zhkh, `{"agency":"Дороги-Рязань"}`, 403, "forbidden"},
		{"agency may not assign", "POST", "/v1/appeals/vk:1/assign", zhkh, `{"agency":"ЖКХ-Рязань"}`, 403, "forbidden"},
		{"unknown appeal", "POST", "/v1/appeals/vk:404/take", zhkh, `{}`, 404, "not_found"},
		{"own agency takes", "POST", "/v1/appeals/vk:1/take", zhkh, `{"event_id":"k1"}`, 200, "ok"},
		{"retry with the same event id", "POST", "/v1/appeals/vk:1/take", zhkh, `{"event_id":"k1"}`, 200, "duplicate"},
		{"take twice", "POST", "/v1/appeals/vk:1/take", zhkh, `{}`, 409, "invalid_transition"},
		{"attachment must be a URL", "POST", "/v1/appeals/vk:1/resolve", zhkh, `{"comment":"ok","attachments":["c:\\photo.jpg"]}`, 422, "invalid_command"},
		{"curator reassigns", "POST", "/v1/appeals/vk:1/assign", curator, `{"agency":"Дороги-Рязань"}`, 200, "ok"},
		{"former agency locked out", "POST", "/v1/appeals/vk:1/resolve", zhkh, `{"comment":"done"}`, 403, "forbidden"},
		{"new agency resolves with a photo", "POST", "/v1/appeals/vk:1/resolve", roads, `{"comment":"Яма заделана","attachments":["https://cdn.example/p.jpg"]}`, 200, "ok"},
		{"new agency reads", "GET", "/v1/appeals/vk:1", roads, ``, 200, ""},
	}
	for _, c := range cases {
		req, _ := http.NewRequestWithContext(ctx, c.method, srv.URL+c.path, bytes.NewBufferString(c.body))
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var got struct {
			Code   string     `json:"code"`
			Status string     `json:"status"`
			State  *sla.State `json:"state"`
		}
		_ = json.Unmarshal(raw, &got)
		if resp.StatusCode != c.status || got.Code != c.code {
			t.Fatalf("%s: %d %s, want %d %s", c.name, resp.StatusCode, raw, c.status, c.code)
		}
		if c.name == "new agency reads" && (got.Status != sla.StatusResolved) {
			t.Fatalf("state %s", raw)
		}
	}
	var n uint64
	if err := ch.QueryRow(ctx, "SELECT count() FROM appeal_events WHERE appeal_id = 'vk:1' AND event_type = 'resolve' AND actor = 'Дороги-Рязань' AND has(attachments, 'https://cdn.example/p.jpg')").Scan(&n); err != nil || n != 1 {
		t.Fatalf("resolve not recorded with its actor: %d %v", n, err)
	}
	if out := sw.String(); !strings.Contains(out, "command refused") || !strings.Contains(out, "reason=forbidden") ||
		!strings.Contains(out, "unauthenticated request refused") {
		t.Fatalf("refusals not logged:\n%s", out)
	}
}
