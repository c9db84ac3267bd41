package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/ingest/ingesttest"
	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/sla/report"
)

// TestRunSLAMatchesExecutorsTruth runs `run`'s assembly (broker, ingest, processor, SLA engine and API,
// simulator, simulated executors) on the real broker, ClickHouse and Redis with time scaled 1800× (half
// an hour per second): four simulated hours of traffic at a flat rate (the daily rhythm would make the
// count depend on when the test runs), then deadlines pass while the agencies work. The
// SLA rollups by agency (received, resolved, resolved on time, open overdue, hence the on-time share)
// must equal what the executors' truth says, exactly, and every appeal whose deadline passed unresolved
// must have exactly one breach notice on appeals.sla — and no other appeal any.
func TestRunSLAMatchesExecutorsTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline for about a minute")
	}
	_, chCfg := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	var out bytes.Buffer
	env := &cli.Env{Stdin: bytes.NewReader(nil), Stdout: &out, Stderr: io.Discard, Getenv: func(string) string { return "" },
		Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	const scale, span = 1800, 4 * time.Hour
	fs, f := runFlagSet(env)
	if err := parse(fs, []string{"--clickhouse-addr", chCfg.Addr, "--clickhouse-database", chCfg.Database,
		"--redis-addr", testenv.RedisAddr(t), "--redis-prefix", prefix, "--broker-port", "0", "--data-dir", t.TempDir(),
		"--ingest-listen", "127.0.0.1:0", "--sla-listen", "127.0.0.1:0", "--metrics-addr", "",
		"--sla-time-scale", fmt.Sprint(scale), "--sim-duration", span.String(), "--rate", "12", "--rhythm=false", "--seed", "5",
		"--table-every", "0"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s, err := startRun(ctx, env, f)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = s.wait(); s.close() }()
	start := s.clk.Now()

	<-s.simDone
	if s.simTruth.Appeals < 40 {
		// Without --rhythm=false the count followed the hour of day (32 appeals for a start at 20:46 MSK,
		// the evening ebbing into night, against ≥ 40 by day). A send that fails also ends the simulation
		// early: say what the run's parts returned.
		t.Fatalf("only %d appeals simulated; the run's parts returned: %v", s.simTruth.Appeals, firstErr(s.errs))
	}
	// Everything stored, every incident created in the SLA engine and met by the executors; then let
	// the deadlines of the last appeals (8 h) pass by two more hours.
	waitFor(t, ctx, "appeals stored", func() (bool, string) {
		var n uint64
		err := s.conn.QueryRow(ctx, "SELECT count() FROM appeals").Scan(&n)
		return err == nil && n == uint64(s.simTruth.Appeals), fmt.Sprintf("%d of %d (%v)", n, s.simTruth.Appeals, err)
	})
	waitFor(t, ctx, "incidents met by the executors", func() (bool, string) {
		var incidents, sla uint64
		err := s.conn.QueryRow(ctx, "SELECT (SELECT count() FROM appeals WHERE is_incident = 1), (SELECT uniqExact(appeal_id) FROM appeal_sla)").Scan(&incidents, &sla)
		met := len(s.executors.Truth().Outcomes())
		return err == nil && incidents == sla && uint64(met) == sla, fmt.Sprintf("incidents %d, in appeal_sla %d, met %d (%v)", incidents, sla, met, err)
	})
	until := start.Add(span + 10*time.Hour)
	time.Sleep(time.Until(time.Now().Add(time.Duration(float64(until.Sub(s.clk.Now())) / scale))))

	s.StopExecutors()
	at := s.clk.Now().UTC().Truncate(time.Second)
	truth := s.executors.Truth()
	outcomes := truth.Outcomes()
	var resolved, onTime, late, rejected, reassigned, media int
	for _, o := range outcomes {
		if o.Source != model.SourcePOS && !o.Deadline.Equal(o.Received.Add(8*time.Hour)) {
			t.Errorf("%s: deadline %s, want received %s + 8h", o.AppealID, o.Deadline, o.Received)
		}
		if !o.Resolved.IsZero() {
			resolved++
			if o.OnTime() {
				onTime++
			} else {
				late++
			}
		}
		rejected += o.Rejections
		reassigned += o.Reassignments
		media += o.Attachments
	}
	t.Logf("%d appeals, %d incidents: %d resolved (%d on time, %d late), %d rejections, %d reassignments, %d attachments",
		s.simTruth.Appeals, len(outcomes), resolved, onTime, late, rejected, reassigned, media)
	if resolved == 0 || onTime == 0 || late == 0 || rejected+reassigned == 0 || media == 0 {
		t.Fatal("the executors did not show the behaviour this test is about")
	}

	rows, err := report.Rollup(ctx, s.conn, report.ByAgency, start.Add(-48*time.Hour), at)
	if err != nil {
		t.Fatal(err)
	}
	want := truth.ByAgency(at)
	overdueAgencies := 0
	for _, r := range rows {
		w, ok := want[r.Key]
		delete(want, r.Key)
		if !ok || uint64(w.Received) != r.Received || uint64(w.Resolved) != r.Resolved ||
			uint64(w.ResolvedOnTime) != r.ResolvedOnTime || uint64(w.OverdueOpen) != r.OverdueOpen {
			t.Errorf("agency %q: rollup received %d resolved %d on time %d overdue %d; truth %+v",
				r.Key, r.Received, r.Resolved, r.ResolvedOnTime, r.OverdueOpen, w)
		}
		if r.OverdueOpen > 0 {
			overdueAgencies++
		}
	}
	for k, w := range want {
		t.Errorf("agency %q in the truth (%+v), not in the rollup", k, w)
	}
	if overdueAgencies == 0 {
		t.Error("no agency has an overdue incident: the late agencies did not show")
	}

	// Breach notices: wait until every expected one is on appeals.sla (the timers of deadlines up to `at`
	// fire within a poll of the engine), then check that each came once and no other appeal got one.
	open := map[string]bool{}
	for _, o := range outcomes {
		open[o.AppealID] = o.Resolved.IsZero()
	}
	breaches := truth.Breaches(at)
	readNotices := func() (map[string]int, []model.StatusEvent) {
		n := map[string]int{}
		var evs []model.StatusEvent
		for _, m := range ingesttest.ReadAll(t, s.brokerAdr, model.TopicSLA) {
			var ev model.StatusEvent
			if err := json.Unmarshal(m.Value, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Type == model.EventBreached {
				n[ev.AppealID]++
				evs = append(evs, ev)
			}
		}
		return n, evs
	}
	waitFor(t, ctx, "breach notices", func() (bool, string) {
		n, _ := readNotices()
		missing := 0
		for _, o := range breaches {
			if n[o.AppealID] == 0 {
				missing++
			}
		}
		return missing == 0, fmt.Sprintf("%d of %d missing", missing, len(breaches))
	})
	time.Sleep(500 * time.Millisecond) // a duplicate would follow within a poll or a batch
	notices, evs := readNotices()
	for _, ev := range evs {
		if ev.Deadline.After(at) && !open[ev.AppealID] {
			t.Errorf("%s: breach notice for a deadline after the executors stopped, but it was resolved", ev.AppealID)
		}
	}
	for _, o := range breaches {
		if notices[o.AppealID] != 1 {
			t.Errorf("%s (deadline %s, resolved %s): %d breach notices, want 1", o.AppealID, o.Deadline, o.Resolved, notices[o.AppealID])
		}
		delete(notices, o.AppealID)
	}
	for id, n := range notices {
		if o := find(outcomes, id); !open[id] || !o.Deadline.After(at) || n != 1 {
			t.Errorf("%s: %d breach notices the truth does not expect (deadline %s, open %v)", id, n, o.Deadline, open[id])
		}
	}
	if len(breaches) == 0 {
		t.Error("no breaches: the test proves nothing about them")
	}
	t.Logf("%d breaches as of %s, on-time share by the rollup per agency checked for %d agencies", len(breaches), at, len(rows))
}

func find(os []simulator.Outcome, id string) simulator.Outcome {
	for _, o := range os {
		if o.AppealID == id {
			return o
		}
	}
	return simulator.Outcome{}
}

func waitFor(t *testing.T, ctx context.Context, what string, ok func() (bool, string)) {
	t.Helper()
	for {
		done, state := ok()
		if done {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: gave up: %s", what, state)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}
