package sla

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/sla/timers"
)

// Run consumes appeals.status, polls the timers and watches for a Redis data loss until ctx ends. It
// first makes sure the timers are complete (rebuilding them from ClickHouse if Redis lost them).
func (e *Engine) Run(ctx context.Context) error {
	if err := e.ensureTimers(ctx); err != nil {
		return err
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: e.cfg.Brokers, GroupID: e.cfg.Group, Topic: e.cfg.StatusTopic,
		StartOffset: kafka.FirstOffset, MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 100 * time.Millisecond,
		CommitInterval:    0, // commit synchronously after each applied batch
		HeartbeatInterval: 500 * time.Millisecond, SessionTimeout: 6 * time.Second,
		RebalanceTimeout: 5 * time.Second, JoinGroupBackoff: 200 * time.Millisecond,
		ReadBackoffMin: 10 * time.Millisecond, ReadBackoffMax: 100 * time.Millisecond,
		Dialer: e.cfg.KafkaSecurity.Dialer("teplokarta-sla"),
	})
	defer r.Close()
	locks := newPartitionLocks(e.rdb, e.cfg.KeyPrefix, e.cfg.Instance)
	// The loops beside the consumer end with it: when the consumer fails (the broker went away), Run must
	// return its error to the caller, which restarts it, instead of waiting on loops that only a
	// cancelled ctx stops — that wait left status events unapplied for good after a broker restart.
	loops, stopLoops := context.WithCancel(ctx)
	defer stopLoops()
	var wg sync.WaitGroup
	wg.Go(func() { e.timers.Poll(loops, e.clk, e.cfg.PollInterval, e.log, e.fire) })
	wg.Go(func() { e.watchReady(loops) })
	wg.Go(func() { e.reconcileLoop(loops) })
	err := e.consume(ctx, r, locks)
	stopLoops()
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (e *Engine) consume(ctx context.Context, r *kafka.Reader, locks *partitionLocks) error {
	for ctx.Err() == nil {
		msgs, err := e.fetch(ctx, r)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("sla: read %s: %w", e.cfg.StatusTopic, err)
		}
		evs := make([]model.StatusEvent, 0, len(msgs))
		var dead []kafka.Message
		for _, m := range msgs {
			var ev model.StatusEvent
			if err := json.Unmarshal(m.Value, &ev); err != nil {
				e.m.Refused.WithLabelValues("bad_json").Inc()
				e.log.Warn("sla: undecodable status event dead-lettered", "partition", m.Partition, "offset", m.Offset, "err", err)
				dead = append(dead, e.deadLetter(m, "bad_json: "+err.Error()))
				continue
			}
			evs = append(evs, ev)
		}
		// Dead letters go out before the batch is committed: a crash replays them, never loses them.
		for backoff := 100 * time.Millisecond; len(dead) > 0; backoff = min(2*backoff, 5*time.Second) {
			err := e.writer.WriteMessages(ctx, dead...)
			if err == nil {
				break
			}
			e.log.Error("sla: dead letters not written; retrying", "n", len(dead), "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
		}
		held, err := locks.acquire(ctx, msgs)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var results []Result
		for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 5*time.Second) {
			if results, err = e.ApplyBatch(ctx, evs); err == nil {
				break
			}
			e.log.Error("sla: batch not applied; retrying", "events", len(evs), "err", err)
			select {
			case <-ctx.Done():
				locks.release(context.WithoutCancel(ctx), held)
				return nil
			case <-time.After(backoff):
			}
		}
		if err := r.CommitMessages(ctx, msgs...); err != nil && ctx.Err() == nil {
			// Not fatal: the batch is replayed after a rebalance and ignored as duplicates.
			e.log.Warn("sla: commit failed", "err", err)
		}
		locks.release(context.WithoutCancel(ctx), held)
		e.reply(ctx, results)
	}
	return nil
}

// deadLetter wraps a status event that can't be applied: original key, bytes and headers, plus why and
// where it came from.
func (e *Engine) deadLetter(m kafka.Message, reason string) kafka.Message {
	h := append([]kafka.Header(nil), m.Headers...)
	h = append(h,
		kafka.Header{Key: model.HeaderReason, Value: []byte(reason)},
		kafka.Header{Key: model.HeaderStage, Value: []byte("sla")},
		kafka.Header{Key: model.HeaderOrigin, Value: []byte(model.Offset{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}.String())},
		kafka.Header{Key: model.HeaderSource, Value: []byte("status")},
	)
	return kafka.Message{Topic: e.cfg.DLQTopic, Key: []byte("status"), Value: m.Value, Headers: h}
}

// fetch blocks for one message, then gathers more for up to BatchLinger.
func (e *Engine) fetch(ctx context.Context, r *kafka.Reader) ([]kafka.Message, error) {
	e.draining.Store(true) // waiting here: every status event produced so far has been applied
	m, err := r.FetchMessage(ctx)
	e.draining.Store(false)
	e.drainedAt.Store(time.Now().UnixNano())
	if err != nil {
		return nil, err
	}
	return kafkax.Fill(ctx, r, []kafka.Message{m}, e.cfg.BatchSize, e.cfg.BatchLinger), nil
}

// watchReady rebuilds the timers whenever Redis lost them while running.
func (e *Engine) watchReady(ctx context.Context) {
	t := time.NewTicker(e.cfg.ReadyCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := e.ensureTimers(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("sla: timer rebuild failed; retrying", "err", err)
		}
	}
}

// ensureTimers rebuilds the timers from ClickHouse when the ready marker is missing. One instance
// rebuilds under a lock; the others wait for the marker.
func (e *Engine) ensureTimers(ctx context.Context) error {
	for {
		ok, err := e.timers.Ready(ctx)
		if err != nil || ok {
			return err
		}
		locked, err := e.timers.TryLockRebuild(ctx, e.cfg.Instance, time.Minute)
		if err != nil {
			return err
		}
		if locked {
			n, err := e.Rebuild(ctx)
			if err == nil {
				err = e.timers.MarkReady(ctx)
			}
			_ = e.timers.UnlockRebuild(context.WithoutCancel(ctx))
			if err != nil {
				return err
			}
			e.m.Rebuilds.Inc()
			e.log.Info("sla: timers rebuilt from clickhouse", "open_appeals", n)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Rebuild schedules the timers of every open, not yet breached appeal recorded in ClickHouse. Deadlines
// already past fire at the next poll; the applier's event ids keep a breach that fired before the loss
// from being applied twice. ZADD NX keeps timers the applier wrote meanwhile (they are newer).
func (e *Engine) Rebuild(ctx context.Context) (int, error) {
	q, err := e.store.latest(ctx, "appeal_sla", []string{"deadline", "status", "breached"}, "", "status != 'resolved' AND breached = 0")
	if err != nil {
		return 0, fmt.Errorf("sla: rebuild: read open appeals: %w", err)
	}
	rows, err := e.store.query(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("sla: rebuild: read open appeals: %w", err)
	}
	open := map[string]time.Time{}
	version := map[string]uint64{}
	for rows.Next() {
		var id, status string
		var dl time.Time
		var breached uint8
		var v uint64
		if err := rows.Scan(&id, &dl, &status, &breached, &v); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sla: rebuild: %w", err)
		}
		open[id], version[id] = dl.UTC(), v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sla: rebuild: %w", err)
	}
	if q, err = e.store.latest(ctx, "appeal_sla_extra", []string{"at_risk"}, "", "at_risk = 1"); err != nil {
		return 0, fmt.Errorf("sla: rebuild: read at-risk notices: %w", err)
	}
	rows, err = e.store.query(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("sla: rebuild: read at-risk notices: %w", err)
	}
	warned := map[string]bool{}
	for rows.Next() {
		var id string
		var atRisk uint8
		var v uint64
		if err := rows.Scan(&id, &atRisk, &v); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sla: rebuild: %w", err)
		}
		warned[id] = version[id] == v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sla: rebuild: %w", err)
	}
	const chunk = 5000
	p := e.rdb.Pipeline()
	n := 0
	for id, dl := range open {
		p.ZAddNX(ctx, e.timers.Key(timers.Breach), redis.Z{Score: float64(dl.UnixMilli()), Member: id})
		if !warned[id] {
			p.ZAddNX(ctx, e.timers.Key(timers.AtRisk), redis.Z{Score: float64(e.pol.AtRisk(dl).UnixMilli()), Member: id})
		}
		if n++; n%chunk == 0 {
			if _, err := p.Exec(ctx); err != nil {
				return n, fmt.Errorf("sla: rebuild: write timers: %w", err)
			}
		}
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return n, fmt.Errorf("sla: rebuild: write timers: %w", err)
	}
	return n, nil
}
