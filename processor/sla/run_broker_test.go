package sla_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/sla"
)

// When the broker goes away, Run returns its consumer's error (the caller restarts it, or `sla serve`
// exits to be restarted) instead of hanging: it used to wait forever on its timer, watch and reconcile
// loops, which only a cancelled ctx ended, and no status event was applied again (make chaos,
// broker-restart: 2,040 of 2,215 incidents left without an SLA record).
func TestRunReturnsWhenTheBrokerGoesAway(t *testing.T) {
	e := newEnv(t)
	b := testenv.Broker(t)
	cfg := sla.DefaultConfig()
	cfg.KeyPrefix, cfg.Brokers, cfg.Group, cfg.Instance = e.prefix, []string{b.Addr()}, e.group, "gone"
	cfg.PollInterval, cfg.ReadyCheck = 20*time.Millisecond, 100*time.Millisecond
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	defer rdb.Close()
	eng, err := sla.New(cfg, rdb, e.ch, e.pol, e.clk, logger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	// Consuming: a created event is applied.
	if err := eng.Publish(ctxT(t, 30*time.Second), created("gone:1", "ЖКХ-Рязань", t0)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the appeal recorded", func() (bool, string) {
		st, _, _ := e.status("gone:1")
		return st != "", st
	})
	b.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Run returned nil with its context alive: the caller would take the engine for stopped")
		}
		t.Logf("Run returned: %v", err)
	case <-time.After(90 * time.Second):
		t.Fatal("Run still running 90 s after the broker went away: its consumer stopped, and nothing restarts it")
	}
}
