package sla

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/redisx"
	"github.com/teplokarta/teplokarta/processor/sla/timers"
)

// Clock is the engine's time source; tests pass a fake one and move it.
type Clock interface{ Now() time.Time }

// Policy computes deadlines (processor/sla/policy implements it).
type Policy = Deadliner

// Engine applies status events and runs the timers. Several instances may run against the same Redis,
// ClickHouse and consumer group.
type Engine struct {
	cfg    Config
	rdb    redis.UniversalClient
	store  *store
	timers *timers.Store
	pol    Policy
	clk    Clock
	log    *slog.Logger
	m      *Metrics
	writer *kafka.Writer
	guard  *redisx.Guard

	draining  atomic.Bool  // the consumer waits for the next status event: it has applied all there were
	drainedAt atomic.Int64 // when it last stopped waiting (unix ns)
	reconMu   sync.Mutex
	reconSent map[string]time.Time // appeal id → when Reconcile published its created event
	replyTo   string
}

// New builds an engine. It opens no connection of its own except the Kafka writer (closed by Close).
func New(cfg Config, rdb redis.UniversalClient, ch driver.Conn, pol Policy, clk Clock, log *slog.Logger, m *Metrics) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Timers.KeyPrefix = cfg.KeyPrefix
	ts, err := timers.New(rdb, cfg.Timers)
	if err != nil {
		return nil, err
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	w := &kafka.Writer{
		Addr: kafka.TCP(cfg.Brokers...),
		// Murmur2 is what Java clients use, so events of one appeal from any producer share a partition
		// and reach the single applier in order.
		Balancer:     &kafka.Murmur2Balancer{},
		BatchTimeout: 5 * time.Millisecond,
		BatchBytes:   kafkax.DefaultBatchBytes,
		RequiredAcks: kafka.RequireAll,
		Transport:    kafkax.NewTransport(cfg.KafkaSecurity),
	}
	return &Engine{cfg: cfg, rdb: rdb, timers: ts, pol: pol, clk: clk, log: log, m: m, writer: w,
		guard: redisx.NewGuard(rdb, cfg.KeyPrefix+"sla:durable", cfg.Durability),
		store: &store{rdb: rdb, ch: ch, prefix: cfg.KeyPrefix, resolvedTTL: cfg.ResolvedTTL,
			topo: chstore.TopologyOnce{Auth: cfg.ClickHouseAuth}}}, nil
}

// Close flushes and closes the Kafka writer and its connections (kafka-go leaves a transport it was given open).
func (e *Engine) Close() error {
	err := e.writer.Close()
	e.writer.Transport.(*kafka.Transport).CloseIdleConnections()
	return err
}

// Result is the outcome of one event.
type Result struct {
	EventID string
	Err     error  // nil: applied; otherwise a sentinel of this package, wrapped
	State   *State // the appeal's state after the event (nil for unknown appeals)
}

// Code names Err for JSON replies and metric labels.
func Code(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{{ErrUnauthorized, "unauthorized"}, {ErrForbidden, "forbidden"}, {ErrNotFound, "not_found"},
		{ErrInvalidTransition, "invalid_transition"}, {ErrInvalidCommand, "invalid_command"},
		{ErrDuplicate, "duplicate"}, {ErrStale, "stale"}} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	if err == nil {
		return "ok"
	}
	return "error"
}

// ApplyBatch applies events in order. It returns an error only when the effects could not be stored
// (ClickHouse, Redis, Kafka down); the caller then retries the same batch, which is safe because every
// write is idempotent per event id. Order of effects: ClickHouse (the record) first, then the notices on
// appeals.sla, then the Redis cache and timers, so a crash at any point is repaired by the replay.
func (e *Engine) ApplyBatch(ctx context.Context, evs []model.StatusEvent) ([]Result, error) {
	start := time.Now()
	began, err := e.guard.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("sla: %w", err)
	}
	ids := make([]string, 0, len(evs))
	seen := map[string]bool{}
	for _, ev := range evs {
		if ev.AppealID != "" && !seen[ev.AppealID] {
			seen[ev.AppealID] = true
			ids = append(ids, ev.AppealID)
		}
	}
	states, err := e.store.load(ctx, ids)
	if err != nil {
		return nil, err
	}
	results := make([]Result, 0, len(evs))
	var done []applied
	var notices []model.StatusEvent
	changed := map[string]bool{}
	for _, ev := range evs {
		next, err := Apply(states[ev.AppealID], ev, e.pol)
		if err != nil {
			e.account(ev, err)
			var st *State
			if cur := states[ev.AppealID]; cur != nil {
				cp := *cur
				st = &cp
			}
			results = append(results, Result{EventID: ev.EventID, Err: err, State: st})
			continue
		}
		e.m.Applied.WithLabelValues(ev.Type).Inc()
		if ev.Type == model.EventAtRisk || ev.Type == model.EventBreached {
			n := ev
			n.Deadline = next.Deadline
			n.Agency, n.Region, n.OKTMO, n.Municipality = next.Agency, next.Region, next.OKTMO, next.Municipality
			n.Category, n.Theme, n.Source, n.ReceivedTime = next.Category, next.Theme, next.Source, next.Received
			ev = n
			notices = append(notices, n)
			if ev.Type == model.EventBreached {
				e.m.BreachDelay.Observe(e.clk.Now().Sub(next.Deadline).Seconds())
			}
		}
		states[ev.AppealID] = &next
		changed[ev.AppealID] = true
		done = append(done, applied{ev: ev, state: next})
		st := next
		results = append(results, Result{EventID: ev.EventID, State: &st})
	}
	var final []State
	for id := range changed {
		final = append(final, *states[id])
	}
	if err := e.store.record(ctx, done, final); err != nil {
		return nil, err
	}
	if err := e.publish(ctx, e.cfg.SLATopic, notices); err != nil {
		return nil, err
	}
	_, err = e.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for id := range changed {
			if err := e.store.cache(ctx, p, *states[id]); err != nil {
				return err
			}
		}
		// Timers follow the final state of every appeal an event touched, stale timer events included:
		// that repairs a timer that a stale claim removed.
		for _, id := range ids {
			if st := states[id]; st != nil {
				e.scheduleTimers(ctx, p, st)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sla: update redis: %w", err)
	}
	// A cache entry or timer a failover dropped after the offsets were committed would stay lost: the
	// batch counts as applied only once its writes are on the current master (and replicas, if asked).
	if err := e.guard.Confirm(ctx, began); err != nil {
		return nil, fmt.Errorf("sla: %w", err)
	}
	e.m.Batch.Observe(time.Since(start).Seconds())
	return results, nil
}

// scheduleTimers makes the appeal's timers match its state.
func (e *Engine) scheduleTimers(ctx context.Context, p redis.Pipeliner, st *State) {
	if !st.Open() || st.Breached {
		e.timers.Cancel(ctx, p, timers.Breach, st.AppealID)
		e.timers.Cancel(ctx, p, timers.AtRisk, st.AppealID)
		return
	}
	e.timers.Schedule(ctx, p, timers.Breach, st.AppealID, st.Deadline)
	if st.AtRisk {
		e.timers.Cancel(ctx, p, timers.AtRisk, st.AppealID)
	} else {
		e.timers.Schedule(ctx, p, timers.AtRisk, st.AppealID, e.pol.AtRisk(st.Deadline))
	}
}

func (e *Engine) account(ev model.StatusEvent, err error) {
	code := Code(err)
	if errors.Is(err, ErrDuplicate) || errors.Is(err, ErrStale) {
		e.m.Ignored.WithLabelValues(code).Inc()
		e.log.Debug("sla: event ignored", "event_id", ev.EventID, "appeal_id", ev.AppealID, "type", ev.Type, "reason", err)
		return
	}
	e.m.Refused.WithLabelValues(code).Inc()
	e.log.Warn("sla: command refused", "event_id", ev.EventID, "appeal_id", ev.AppealID, "type", ev.Type,
		"actor", ev.Actor, "role", ev.ActorRole, "agency", ev.Agency, "reason", code, "err", err)
}

// publish produces events keyed by appeal id and waits for the broker's acknowledgement.
func (e *Engine) publish(ctx context.Context, topic string, evs []model.StatusEvent) error {
	if len(evs) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(evs))
	for i, ev := range evs {
		b, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("sla: encode event: %w", err)
		}
		msgs[i] = kafka.Message{Topic: topic, Key: []byte(ev.AppealID), Value: b}
	}
	if err := e.writer.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("sla: produce to %s: %w", topic, err)
	}
	return nil
}

// timerEvent turns a claimed timer into the event the applier will judge. Its id is derived from the
// appeal and the scheduled time, so a timer published twice (lease expiry, rebuild) is applied once.
func (e *Engine) timerEvent(d timers.Due) model.StatusEvent {
	typ := model.EventBreached
	if d.Kind == timers.AtRisk {
		typ = model.EventAtRisk
	}
	return model.StatusEvent{EventID: fmt.Sprintf("%s:%s:%d", typ, d.AppealID, d.At.Unix()), Type: typ,
		AppealID: d.AppealID, Actor: "sla-timer", ActorRole: model.RoleSystem, Deadline: d.At, EventTime: e.clk.Now()}
}

func (e *Engine) fire(ctx context.Context, due []timers.Due) error {
	evs := make([]model.StatusEvent, len(due))
	for i, d := range due {
		evs[i] = e.timerEvent(d)
	}
	if err := e.publish(ctx, e.cfg.StatusTopic, evs); err != nil {
		return err
	}
	for _, d := range due {
		e.m.Fired.WithLabelValues(string(d.Kind)).Inc()
	}
	return nil
}

// isAPI reports whether an HTTP caller waits for the event's result.
func isAPI(eventID string) bool { return strings.HasPrefix(eventID, apiPrefix) }
