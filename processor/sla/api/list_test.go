package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
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

// TestListOpenAppeals: an agency lists its own open appeals only, a curator every open one or one
// agency's queue; resolved appeals and those received before since are left out.
func TestListOpenAppeals(t *testing.T) {
	ch, _ := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	defer rdb.Close()
	pol, _ := policy.New(policy.DefaultConfig())
	t0 := time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	cfg := sla.DefaultConfig()
	cfg.KeyPrefix, cfg.Brokers, cfg.Group = prefix, []string{testenv.Broker(t).Addr()}, "list-"+prefix
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
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
	toks, err := auth.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.New(eng, toks, log, 20*time.Second).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	created := func(id, agency string, received time.Time) model.StatusEvent {
		return model.StatusEvent{EventID: "created:" + id, Type: model.EventCreated, AppealID: id, Source: "vk", Municipality: "Шиловский район", Theme: "Нет воды",
			Category: "ЖКХ", Agency: agency, Actor: "processor", ActorRole: model.RoleSystem, ReceivedTime: received, EventTime: received}
	}
	if err := eng.Publish(ctx, created("vk:1", "ЖКХ-Рязань", t0), created("vk:2", "Дороги-Рязань", t0),
		created("vk:3", "ЖКХ-Рязань", t0), created("vk:4", "", t0), created("vk:old", "ЖКХ-Рязань", t0.Add(-30*24*time.Hour))); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := eng.Get(ctx, "vk:old"); err == nil {
			break
		} else if time.Now().After(end) {
			t.Fatal("appeals not created:", err)
		}
	}
	if _, err := eng.Submit(ctx, model.StatusEvent{Type: model.EventResolve, AppealID: "vk:3", Actor: "ЖКХ-Рязань",
		ActorRole: model.RoleAgency, Agency: "ЖКХ-Рязань", Comment: "Исправлено"}, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	zhkh, roads := toks.AgencyToken("ЖКХ-Рязань"), toks.AgencyToken("Дороги-Рязань")
	for _, c := range []struct {
		name, query, token string
		status             int
		want               []string
	}{
		{"agency sees its own open appeals", "", zhkh, 200, []string{"vk:1"}},
		{"another agency its own", "", roads, 200, []string{"vk:2"}},
		{"agency cannot look into another's queue", "?agency=Дороги-Рязань", zhkh, 200, []string{"vk:1"}},
		{"curator sees every open appeal", "", toks.CuratorToken(), 200, []string{"vk:1", "vk:2", "vk:4"}},
		{"curator: one agency's queue", "?agency=Дороги-Рязань", toks.CuratorToken(), 200, []string{"vk:2"}},
		{"curator: the returned ones", "?agency=", toks.CuratorToken(), 200, []string{"vk:4"}},
		{"since reaches back", "?since=2026-01-01T00:00:00Z", zhkh, 200, []string{"vk:old", "vk:1"}},
		{"limit", "?limit=1", toks.CuratorToken(), 200, []string{"vk:1"}},
		{"bad since", "?since=yesterday", zhkh, 400, nil},
		{"bad limit", "?limit=0", zhkh, 400, nil},
		{"no token", "", "", 401, nil},
	} {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/appeals"+c.query, nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Appeals []sla.State `json:"appeals"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		var ids []string
		for _, st := range got.Appeals {
			ids = append(ids, st.AppealID)
			if st.Municipality != "Шиловский район" || st.Theme != "Нет воды" || st.Deadline.IsZero() {
				t.Errorf("%s: %s listed without its municipality, theme or deadline: %+v", c.name, st.AppealID, st)
			}
		}
		if resp.StatusCode != c.status || !slices.Equal(ids, c.want) {
			t.Errorf("%s: %d %v, want %d %v", c.name, resp.StatusCode, ids, c.status, c.want)
		}
	}
}
