package sla

import (
	"context"
	"fmt"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
)

// Reconcile gives every incident stored in appeals its one deadline, whatever crashed. The processor
// produces an incident's "created" event only after its row is stored; a processor killed in between
// resumes after the stored row and never produces it. Reconcile finds incidents stored at least Grace
// before the status consumer last caught up (received within Lookback) that appeal_sla does not know, and publishes their "created" events,
// rebuilt from the row, with the processor's own event id: if the processor's event arrives too, the
// applier takes whichever comes first and ignores the other as a duplicate, so no incident gets two
// timers and no breach is announced twice. It returns how many events it published.
func (e *Engine) Reconcile(ctx context.Context) (int, error) {
	now := e.clk.Now()
	// Only rows stored well before the consumer last had nothing left to apply: a younger incident's
	// created event may still be on its way, and the consumer may lag behind a backlog.
	drained := time.Now()
	if !e.draining.Load() {
		if at := e.drainedAt.Load(); at > 0 {
			drained = time.Unix(0, at)
		} else {
			return 0, nil // not caught up once yet
		}
	}
	// GLOBAL NOT IN: with several shards a plain IN over another Distributed table is refused (docs/cluster.md).
	rows, err := e.store.ch.Query(ctx, `SELECT appeal_id, region, oktmo, municipality, category, theme, source, agency,
			sla_deadline, received_time, event_time
		FROM appeals
		WHERE is_incident = 1 AND received_time >= ? AND processed_time <= ?
			AND appeal_id GLOBAL NOT IN (SELECT appeal_id FROM appeal_sla WHERE received_time >= ?)
		LIMIT 1 BY appeal_id`,
		now.Add(-e.cfg.ReconcileLookback).UTC(), drained.Add(-e.cfg.ReconcileGrace).UTC(),
		now.Add(-e.cfg.ReconcileLookback-24*time.Hour).UTC())
	if err != nil {
		return 0, fmt.Errorf("sla: reconcile: read incidents without a deadline: %w", err)
	}
	var evs []model.StatusEvent
	e.reconMu.Lock()
	defer e.reconMu.Unlock()
	if e.reconSent == nil {
		e.reconSent = map[string]time.Time{}
	}
	for id, at := range e.reconSent { // forget what the applier had time to record
		if time.Since(at) > reconcileRetry {
			delete(e.reconSent, id)
		}
	}
	for rows.Next() {
		var ev model.StatusEvent
		var deadline time.Time
		if err := rows.Scan(&ev.AppealID, &ev.Region, &ev.OKTMO, &ev.Municipality, &ev.Category, &ev.Theme, &ev.Source,
			&ev.Agency, &deadline, &ev.ReceivedTime, &ev.EventTime); err != nil {
			rows.Close()
			return 0, fmt.Errorf("sla: reconcile: %w", err)
		}
		ev.EventID, ev.Type = "created:"+ev.AppealID, model.EventCreated
		ev.Actor, ev.ActorRole = "sla-reconcile", model.RoleSystem
		ev.ReceivedTime, ev.EventTime = ev.ReceivedTime.UTC(), ev.EventTime.UTC()
		if deadline.Unix() > 0 {
			ev.Deadline = deadline.UTC()
		}
		if _, sent := e.reconSent[ev.AppealID]; sent {
			continue // published moments ago and still on its way to the applier
		}
		evs = append(evs, ev)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sla: reconcile: %w", err)
	}
	for start := 0; start < len(evs); start += 1000 {
		chunk := evs[start:min(start+1000, len(evs))]
		if err := e.Publish(ctx, chunk...); err != nil {
			return start, fmt.Errorf("sla: reconcile: %w", err)
		}
		for _, ev := range chunk {
			e.reconSent[ev.AppealID] = time.Now()
		}
	}
	if len(evs) > 0 {
		e.m.Reconciled.Add(float64(len(evs)))
		e.log.Warn("sla: incidents stored without a deadline got their created events", "incidents", len(evs))
	}
	return len(evs), nil
}

// reconcileRetry is how long a published event may take to reach appeal_sla before Reconcile sends it
// again (a lost publish; the applier ignores a second copy).
const reconcileRetry = 5 * time.Minute

// reconcileLoop runs Reconcile at start and every ReconcileInterval until ctx ends.
func (e *Engine) reconcileLoop(ctx context.Context) {
	if e.cfg.ReconcileInterval <= 0 {
		return
	}
	t := time.NewTicker(e.cfg.ReconcileInterval)
	defer t.Stop()
	for {
		if _, err := e.Reconcile(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("sla: reconcile failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Metrics returns the engine's metrics (tests read them).
func (e *Engine) Metrics() *Metrics { return e.m }
