package sla

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/sla/policy"
)

// TestReloadedStateListsAReplayedEventOnce: a batch recorded twice (the engine crashed after its INSERTs
// and replayed them) leaves two copies of each history row until ClickHouse merges them. A state read
// back from ClickHouse (Redis lost it) must list each applied event once: the list is bounded, and a copy
// would push an older event id out of it, so a replay of that event would be applied again.
func TestReloadedStateListsAReplayedEventOnce(t *testing.T) {
	ch, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pol, err := policy.New(policy.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Exec(ctx, "SYSTEM STOP MERGES appeal_events"); err != nil { // keep the copies apart
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ch.Exec(context.Background(), "SYSTEM START MERGES appeal_events") })
	s := &store{rdb: rdb, ch: ch, prefix: prefix, resolvedTTL: time.Hour}
	at := time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC)
	const id = "vk:replayed"
	var cur *State
	var evs []applied
	var states []State
	for i, typ := range []string{model.EventCreated, model.EventTake} {
		ev := model.StatusEvent{EventID: typ + ":" + id, AppealID: id, Type: typ, Actor: "test", Agency: "ЖКХ-Рязань",
			ActorRole: model.RoleAgency, EventTime: at.Add(time.Duration(i) * time.Minute)}
		if typ == model.EventCreated {
			ev.ActorRole, ev.Region, ev.OKTMO, ev.Source, ev.Category = model.RoleSystem, model.DefaultRegion, "61701000", "vk", "ЖКХ"
		}
		next, err := Apply(cur, ev, pol)
		if err != nil {
			t.Fatal(err)
		}
		cur = &next
		evs, states = append(evs, applied{ev: ev, state: next}), append(states, next)
	}
	for range 2 {
		if err := s.record(ctx, evs, states); err != nil {
			t.Fatal(err)
		}
	}
	var rows uint64
	if err := ch.QueryRow(ctx, "SELECT count() FROM appeal_events WHERE appeal_id = ?", id).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 4 {
		t.Fatalf("%d history rows, want both copies of 2 (the test shows nothing otherwise)", rows)
	}
	got, err := s.load(ctx, []string{id}) // nothing in Redis: from ClickHouse
	if err != nil {
		t.Fatal(err)
	}
	if got[id] == nil {
		t.Fatal("no state")
	}
	if want := []string{"created:" + id, "take:" + id}; !slices.Equal(got[id].Seen, want) {
		t.Errorf("applied events %v, want %v", got[id].Seen, want)
	}
	if got[id].Version != cur.Version || got[id].Status != cur.Status {
		t.Errorf("state at version %d %s, want %d %s", got[id].Version, got[id].Status, cur.Version, cur.Status)
	}
}
