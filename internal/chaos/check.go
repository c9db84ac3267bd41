package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/teplokarta/teplokarta/processor/rollup"
	"github.com/teplokarta/teplokarta/processor/sla"
)

// check waits for the pipeline to settle and compares everything a user reads with the truth.
func (r *run) check(ctx context.Context, _ *sla.Engine) error {
	// 1. appeals: every unique appeal once.
	if err := r.until(ctx, "appeals to hold the truth", func() (bool, string, error) {
		n := r.rows(ctx)
		if n > r.truth.Appeals {
			return false, "", fmt.Errorf("appeals holds %d rows, more than the %d unique appeals sent", n, r.truth.Appeals)
		}
		return n == r.truth.Appeals, fmt.Sprintf("%d of %d rows", n, r.truth.Appeals), nil
	}); err != nil {
		return err
	}
	var dup int64
	if err := r.ch.QueryRow(ctx, "SELECT count() - uniqExact(appeal_id) FROM appeals").Scan(&dup); err != nil {
		return err
	}
	if dup > 0 {
		return fmt.Errorf("%d appeals stored twice", dup)
	}
	// 2. every view-filled table agrees with appeals (the last INSERT's views may still be running).
	if err := r.until(ctx, "the rollups to agree with appeals", func() (bool, string, error) {
		rep, err := rollup.Verify(ctx, r.ch, rollup.Scope{})
		if err != nil {
			return false, err.Error(), nil
		}
		return rep.Clean(), fmt.Sprintf("%v %v", rep.Diffs, rep.Progress), nil
	}); err != nil {
		return err
	}
	// 3. the minute rollup, window by window, equals the truth; so do the other rollups' totals.
	if err := r.compareCells(ctx); err != nil {
		return err
	}
	// 4. one SLA record per stored incident, one created event each.
	if err := r.until(ctx, "one SLA record per incident", func() (bool, string, error) {
		var incidents, known, missing uint64
		if err := r.ch.QueryRow(ctx, `SELECT (SELECT count() FROM appeals WHERE is_incident = 1),
				(SELECT uniqExact(appeal_id) FROM appeal_sla),
				(SELECT count() FROM appeals WHERE is_incident = 1 AND appeal_id NOT IN (SELECT appeal_id FROM appeal_sla))`).
			Scan(&incidents, &known, &missing); err != nil {
			return false, err.Error(), nil
		}
		return missing == 0 && known == incidents, fmt.Sprintf("%d of %d incidents without an SLA record, %d records", missing, incidents, known), nil
	}); err != nil {
		return err
	}
	var twice uint64
	if err := r.ch.QueryRow(ctx, `SELECT count() FROM (SELECT appeal_id FROM appeal_events WHERE event_type = 'created'
			GROUP BY appeal_id HAVING uniqExact(event_id) > 1 OR count() > 1)`).Scan(&twice); err != nil {
		return err
	}
	if twice > 0 {
		return fmt.Errorf("%d incidents have two created events", twice)
	}
	// 5. the processors report no lag.
	return r.until(ctx, "the processor lag to reach zero", func() (bool, string, error) {
		total, reported := 0.0, false
		for _, p := range r.procs {
			select {
			case <-p.done:
				continue // killed or finished
			default:
			}
			l, err := ProcessorLag(ctx, p.metrics)
			if err != nil {
				return false, err.Error(), nil
			}
			total, reported = total+l, true
		}
		return reported && total == 0, fmt.Sprintf("lag %v records", total), nil
	})
}

// until polls cond once every 200 ms until it holds or ctx ends.
func (r *run) until(ctx context.Context, what string, cond func() (bool, string, error)) error {
	last := ""
	for {
		ok, state, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		last = state
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %s", what, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// compareCells compares the minute rollup with the truth per minute × municipality × source.
func (r *run) compareCells(ctx context.Context) error {
	rows, err := r.ch.Query(ctx, `SELECT window_start, oktmo, source, sum(voices) FROM appeal_counts_1m GROUP BY window_start, oktmo, source`)
	if err != nil {
		return err
	}
	type key struct {
		start         int64
		oktmo, source string
	}
	got := map[key]uint64{}
	for rows.Next() {
		var ws time.Time
		var k key
		var n uint64
		if err := rows.Scan(&ws, &k.oktmo, &k.source, &n); err != nil {
			rows.Close()
			return err
		}
		k.start = ws.Unix()
		got[k] = n
	}
	rows.Close()
	differ := 0
	first := ""
	for _, c := range r.truth.Cells() {
		k := key{c.Start.Unix(), c.OKTMO, c.Source}
		if got[k] != uint64(c.Appeals) {
			if differ == 0 {
				first = fmt.Sprintf("%s %s %s: %d, truth %d", c.Start.UTC().Format(time.RFC3339), c.OKTMO, c.Source, got[k], c.Appeals)
			}
			differ++
		}
		delete(got, k)
	}
	if differ > 0 || len(got) > 0 {
		return fmt.Errorf("%d minute windows differ from the truth, %d never sent (first: %s)", differ, len(got), first)
	}
	for _, table := range []string{"appeal_counts_1h", "appeal_counts_1d", "appeal_counts_1mo", "appeal_counts_oktmo_1d"} {
		var n uint64
		if err := r.ch.QueryRow(ctx, "SELECT sum(voices) FROM "+table).Scan(&n); err != nil {
			return err
		}
		if n != uint64(r.truth.Appeals) {
			return fmt.Errorf("%s counts %d appeals, truth %d", table, n, r.truth.Appeals)
		}
	}
	return nil
}
