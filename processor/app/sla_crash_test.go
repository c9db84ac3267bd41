package app_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/sla"
	"github.com/teplokarta/teplokarta/processor/sla/clock"
	"github.com/teplokarta/teplokarta/processor/sla/policy"
)

// The processor is killed between storing a batch and producing its incidents' "created" events (the test
// hook), then restarted: it resumes after the stored rows and never produces those events. The SLA
// engine's reconciliation gives each of them its deadline from appeals: at the end every stored incident
// has exactly one SLA record and one "created" history row.
func TestIncidentsStoredBeforeACrashGetOneDeadline(t *testing.T) {
	t.Parallel()
	broker := startBroker(t)
	conn, cfg := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	truth := simulate(t, broker, 31, 6000, time.Now().Add(-2*time.Hour).Truncate(time.Minute))
	began := time.Now()
	killed := startChildEnv(t, broker, cfg.Database, prefix, "TEPLOKARTA_TEST_KILL_AFTER_STORE=1")
	select {
	case <-killed.done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the processor with the kill hook did not die")
	}
	stored := rowCount(t, conn)
	if stored == 0 {
		t.Fatal("the killed processor stored nothing: the hook fired before the sink")
	}
	var lost uint64 // incidents the killed processor stored and never announced
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM appeals WHERE is_incident = 1").Scan(&lost); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed after storing %d rows, %d incidents (%s)", stored, lost, time.Since(began).Round(time.Second))
	scfg := sla.DefaultConfig()
	scfg.KeyPrefix, scfg.Brokers, scfg.Group = prefix+"sla:", []string{broker}, "sla-"+prefix
	scfg.ReconcileInterval, scfg.ReconcileGrace = 500*time.Millisecond, 2*time.Second
	pol, err := policy.New(policy.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	srdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	defer srdb.Close()
	eng, err := sla.New(scfg, srdb, conn, pol, clock.Real{}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		t.Logf("engine stopped (%s)", time.Since(began).Round(time.Second))
	}()
	_ = rdb

	startChild(t, broker, cfg.Database, prefix)
	waitRows(t, conn, truth.Appeals, 4*time.Minute)
	t.Logf("all stored (%s)", time.Since(began).Round(time.Second))

	var incidents uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM appeals WHERE is_incident = 1").Scan(&incidents); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var known, missing uint64
		if err := conn.QueryRow(ctx, `SELECT
				(SELECT uniqExact(appeal_id) FROM appeal_sla),
				(SELECT count() FROM appeals WHERE is_incident = 1 AND appeal_id NOT IN (SELECT appeal_id FROM appeal_sla))`).Scan(&known, &missing); err != nil {
			t.Fatal(err)
		}
		if missing == 0 && known == incidents {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d stored incidents have no SLA record (%d records)", missing, incidents, known)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var twice uint64
	if err := conn.QueryRow(ctx, `SELECT count() FROM (SELECT appeal_id FROM appeal_events WHERE event_type = 'created'
			GROUP BY appeal_id HAVING count() > 1)`).Scan(&twice); err != nil {
		t.Fatal(err)
	}
	if twice > 0 {
		t.Fatalf("%d incidents got two created events", twice)
	}
	if n := testutil.ToFloat64(eng.Metrics().Reconciled); n < float64(lost) {
		t.Fatalf("%v incidents reconciled, fewer than the %d the crash left without an event", n, lost)
	} else {
		t.Logf("%v of %d incidents got their deadline through reconciliation (%s)", n, incidents, time.Since(began).Round(time.Second))
	}
}
