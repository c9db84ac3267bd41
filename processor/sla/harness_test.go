package sla_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/sla"
	"github.com/teplokarta/teplokarta/processor/sla/clock"
	"github.com/teplokarta/teplokarta/processor/sla/policy"
)

var t0 = time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC) // 09:00 in Moscow, a Tuesday

// env is one test's shared infrastructure; instances started on it behave like separate processes.
type env struct {
	t      *testing.T
	ch     driver.Conn
	rdb    *redis.Client
	prefix string
	broker string
	clk    *clock.Fake
	pol    *policy.Policy
	group  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ch, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	pol, err := policy.New(policy.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ch: ch, rdb: rdb, prefix: prefix, broker: testenv.Broker(t).Addr(),
		clk: clock.NewFake(t0), pol: pol, group: "sla-" + prefix}
}

func logger() *slog.Logger {
	if os.Getenv("SLA_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// start runs one engine instance with its own Redis client until the test ends.
func (e *env) start(name string) *sla.Engine {
	e.t.Helper()
	cfg := sla.DefaultConfig()
	cfg.KeyPrefix, cfg.Brokers, cfg.Group, cfg.Instance = e.prefix, []string{e.broker}, e.group, name
	cfg.PollInterval, cfg.ReadyCheck = 20*time.Millisecond, 100*time.Millisecond
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(e.t)})
	eng, err := sla.New(cfg, rdb, e.ch, e.pol, e.clk, logger().With("instance", name), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				e.t.Errorf("%s: %v", name, err)
			}
		case <-time.After(15 * time.Second):
			e.t.Errorf("%s did not stop", name)
		}
		eng.Close()
		rdb.Close()
	})
	return eng
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func created(id, agency string, received time.Time) model.StatusEvent {
	return model.StatusEvent{EventID: "created:" + id, Type: model.EventCreated, AppealID: id, Region: model.DefaultRegion,
		OKTMO: "61701000", Municipality: "г. Рязань", Category: "ЖКХ", Theme: "Отопление", Source: "vk", Agency: agency,
		Actor: "processor", ActorRole: model.RoleSystem, ReceivedTime: received, EventTime: received}
}

// eventually polls cond until it holds or 30 s pass.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	end := time.Now().Add(30 * time.Second)
	last := ""
	for time.Now().Before(end) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s (last: %s)", what, last)
}

// status reads an appeal's current status and breached flag from ClickHouse.
func (e *env) status(id string) (string, uint8, time.Time) {
	var st string
	var b uint8
	var dl time.Time
	err := e.ch.QueryRow(context.Background(), `SELECT status, breached, deadline FROM appeal_sla FINAL WHERE appeal_id = ?`, id).Scan(&st, &b, &dl)
	if err != nil {
		return "", 0, time.Time{}
	}
	return st, b, dl.UTC()
}

// countEvents counts raw (unmerged) history rows, so a double write would show.
func (e *env) countEvents(typ string) map[string]uint64 {
	rows, err := e.ch.Query(context.Background(), `SELECT appeal_id, count() FROM appeal_events WHERE event_type = ? GROUP BY appeal_id`, typ)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var id string
		var n uint64
		if err := rows.Scan(&id, &n); err != nil {
			e.t.Fatal(err)
		}
		out[id] = n
	}
	return out
}

// notices collects everything on appeals.sla.
type notices struct {
	mu  sync.Mutex
	evs []model.StatusEvent
}

func (e *env) watchSLA() *notices {
	e.t.Helper()
	n := &notices{}
	// Partition readers without a consumer group: a group reader may deliver a record twice across its own
	// rebalance, which would look like a notice sent twice.
	pctx, pcancel := context.WithTimeout(context.Background(), 10*time.Second)
	parts, err := kafkax.Partitions(pctx, []string{e.broker}, kafkax.Security{}, model.TopicSLA)
	pcancel()
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, p := range parts {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{e.broker}, Topic: model.TopicSLA, Partition: p,
			MaxWait: 50 * time.Millisecond})
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.Close()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					return
				}
				var ev model.StatusEvent
				if err := json.Unmarshal(m.Value, &ev); err != nil {
					e.t.Errorf("bad notice: %v", err)
					continue
				}
				n.mu.Lock()
				n.evs = append(n.evs, ev)
				n.mu.Unlock()
			}
		}()
	}
	e.t.Cleanup(func() { cancel(); wg.Wait() })
	return n
}

// count returns how many notices of typ each appeal got.
func (n *notices) count(typ string) map[string]int {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string]int{}
	for _, ev := range n.evs {
		if ev.Type == typ {
			out[ev.AppealID]++
		}
	}
	return out
}

func describe(m map[string]int) string { return fmt.Sprintf("%d appeals: %v", len(m), m) }
