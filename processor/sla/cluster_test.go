package sla

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/dedup"
	"github.com/teplokarta/teplokarta/processor/rollup"
	"github.com/teplokarta/teplokarta/processor/sla/timers"
)

// TestRedisClusterKeySlots runs every Redis script and multi-key command of the dedup, the SLA engine and
// the rollup gate through a Cluster client against a real cluster node, which refuses keys of different
// hash slots (CROSSSLOT): the keys a script touches share a hash tag, and go-redis splits MGET by slot.
// It lives here because the SLA state cache and partition locks are internal to this package.
func TestRedisClusterKeySlots(t *testing.T) {
	addr := testenv.RedisClusterNode(t)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	t.Cleanup(func() { rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const prefix = "tk:"

	// The node does refuse a script over two slots, so every check below can fail.
	err := rdb.Eval(ctx, "return redis.call('MGET', KEYS[1], KEYS[2])", []string{prefix + "a", prefix + "b"}).Err()
	if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("a script over two slots: err %v, want CROSSSLOT", err)
	}

	t.Run("dedup commit and text claims", func(t *testing.T) {
		d, err := dedup.New(rdb, dedup.Config{KeyPrefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2025, 11, 3, 9, 0, 0, 0, time.UTC)
		texts := []string{
			"Во дворе дома 23 по улице Есенина прорвало трубу, вода хлещет из-под асфальта уже второй час.",
			"Есенина 23 — прорвало трубу во дворе, всё затоплено водой, примите меры!",
			"В Шилово на улице Спасской третий день нет холодной воды, воду не подвозят.",
		}
		var batch []*model.Appeal
		for i, text := range texts {
			batch = append(batch, &model.Appeal{ID: model.AppealID(model.SourceVK, fmt.Sprint(i)), Source: model.SourceVK,
				SourceID: fmt.Sprint(i), Region: model.DefaultRegion, Text: text, OKTMO: "61701000", EventTime: at.Add(time.Duration(i) * time.Minute),
				Origin: model.Offset{Topic: model.RawTopic(model.SourceVK), Partition: 0, Offset: int64(i)}})
		}
		// Separate batches: each incident is committed by the script over its two bucket hashes.
		var got []dedup.Decision
		for _, a := range batch {
			ds, err := d.Decide(ctx, []*model.Appeal{a})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ds...)
		}
		retry := *batch[0]
		retry.Origin.Offset = 99
		ds, err := d.Decide(ctx, []*model.Appeal{&retry})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ds...)
		want := []dedup.Kind{dedup.Incident, dedup.Voice, dedup.Incident, dedup.ExactDuplicate}
		for i, k := range want {
			if got[i].Kind != k {
				t.Errorf("appeal %d: %v, want %v", i, got[i].Kind, k)
			}
		}
	})

	t.Run("dedup state cleared and rebuilt", func(t *testing.T) {
		conn, _ := testenv.ClickHouse(t) // appeals empty: the rebuild restores nothing
		d, err := dedup.New(rdb, dedup.Config{KeyPrefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		keys := func() int { // the subtest above left claims and bucket hashes
			n := 0
			if err := rdb.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
				ks, err := c.Keys(ctx, prefix+"dedup:*").Result()
				n += len(ks)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if keys() == 0 {
			t.Fatal("no dedup keys to clear")
		}
		// No marker: the state counts as lost, so it is cleared under the lock and marked whole by the
		// script that checks the lock (both keys in one slot).
		if rebuilt, _, err := d.EnsureState(ctx, conn, time.Now()); err != nil || !rebuilt {
			t.Fatalf("rebuilt=%v err=%v", rebuilt, err)
		}
		if n := keys(); n != 1 {
			t.Fatalf("%d dedup keys after the rebuild, want only the marker", n)
		}
		if err := d.StateIntact(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("partition routes", func(t *testing.T) {
		conn, _ := testenv.ClickHouse(t) // appeals empty: Ensure writes only the marker
		r, err := dedup.NewRoutes(rdb, conn, dedup.RoutesConfig{KeyPrefix: prefix, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Ensure(ctx); err != nil {
			t.Fatal(err)
		}
		ids := []string{"vk:1", "pos:2", "112:3", "nashdom:4"} // keys of several slots in one pipeline
		for i, scope := range []string{"RU-RYA:61701000", "RU-RYA:61705000"} {
			got, err := r.Route(ctx, ids, []string{scope, scope, scope, scope})
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range got {
				if g != "RU-RYA:61701000" {
					t.Errorf("call %d: routes %v, want every id's first scope", i+1, got)
					break
				}
			}
		}
	})

	t.Run("timers claim and ack", func(t *testing.T) {
		s, err := timers.New(rdb, timers.Config{KeyPrefix: prefix, Lease: time.Second, Batch: 100})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range 5 {
				s.Schedule(ctx, p, timers.Breach, fmt.Sprint("a", i), now.Add(-time.Minute))
				s.Schedule(ctx, p, timers.AtRisk, fmt.Sprint("a", i), now.Add(time.Hour))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		due, err := s.Claim(ctx, timers.Breach, now)
		if err != nil || len(due) != 5 {
			t.Fatalf("claimed %d, err %v; want 5", len(due), err)
		}
		if err := s.Ack(ctx, due); err != nil {
			t.Fatal(err)
		}
		// An unacknowledged claim comes back once its lease ends: the inflight set works too.
		if due, err = s.Claim(ctx, timers.AtRisk, now.Add(2*time.Hour)); err != nil || len(due) != 5 {
			t.Fatalf("claimed %d at-risk timers, err %v; want 5", len(due), err)
		}
		if due, err = s.Claim(ctx, timers.AtRisk, now.Add(2*time.Hour+2*time.Second)); err != nil || len(due) != 5 {
			t.Fatalf("retook %d at-risk timers after the lease, err %v; want 5", len(due), err)
		}
		if err := s.MarkReady(ctx); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.Ready(ctx); err != nil || !ok {
			t.Fatalf("ready %v %v", ok, err)
		}
	})

	t.Run("state cache MGET", func(t *testing.T) {
		st := &store{rdb: rdb, prefix: prefix, resolvedTTL: time.Hour} // no ClickHouse: every state is cached
		var ids []string
		if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range 50 {
				id := fmt.Sprint("vk:", i)
				ids = append(ids, id)
				if err := st.cache(ctx, p, State{AppealID: id, Status: StatusAssigned, Version: uint64(i + 1)}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		got, err := st.load(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			if s := got[id]; s == nil || s.Version != uint64(i+1) {
				t.Fatalf("state %s: %+v", id, s)
			}
		}
	})

	t.Run("partition locks", func(t *testing.T) {
		l := newPartitionLocks(rdb, prefix, "test")
		msgs := []kafka.Message{{Topic: model.TopicStatus, Partition: 0}, {Topic: model.TopicStatus, Partition: 1}, {Topic: model.TopicStatus, Partition: 2}}
		held, err := l.acquire(ctx, msgs)
		if err != nil || len(held) != 3 {
			t.Fatalf("held %v, err %v", held, err)
		}
		l.release(ctx, held)
		for _, k := range held {
			if n, err := rdb.Exists(ctx, k).Result(); err != nil || n != 0 {
				t.Fatalf("lock %s still held (%d, %v)", k, n, err)
			}
		}
	})

	t.Run("rollup gate", func(t *testing.T) {
		g, err := rollup.NewGate(rdb, rollup.GateConfig{KeyPrefix: prefix, Owner: "test", Poll: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		release, err := g.Enter(ctx)
		if err != nil {
			t.Fatal(err)
		}
		release()
		open, err := g.Close(ctx)
		if err != nil {
			t.Fatal(err)
		}
		open()
	})
}
