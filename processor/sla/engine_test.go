package sla_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/sla"
)

func TestDeadlineAtRiskAndBreach(t *testing.T) {
	e := newEnv(t)
	eng := e.start("a")
	notes := e.watchSLA()
	ctx := ctxT(t, 60*time.Second)
	pos := created("pos:1", "ЖКХ-Рязань", t0)
	pos.Source, pos.Deadline = "pos", t0.Add(3*time.Hour) // the portal's own deadline wins
	if err := eng.Publish(ctx, created("vk:1", "ЖКХ-Рязань", t0), pos); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both appeals recorded", func() (bool, string) {
		_, _, d1 := e.status("vk:1")
		_, _, d2 := e.status("pos:1")
		return d1.Equal(t0.Add(8*time.Hour)) && d2.Equal(t0.Add(3*time.Hour)), fmt.Sprint(d1, d2)
	})
	steps := []struct {
		at             time.Duration
		risk, breached []string // appeals with a notice so far
	}{
		{59 * time.Minute, nil, nil},
		{time.Hour, []string{"pos:1"}, nil},
		{3 * time.Hour, []string{"pos:1"}, []string{"pos:1"}},
		{6 * time.Hour, []string{"pos:1", "vk:1"}, []string{"pos:1"}},
		{8*time.Hour + time.Second, []string{"pos:1", "vk:1"}, []string{"pos:1", "vk:1"}},
	}
	for _, s := range steps {
		e.clk.Set(t0.Add(s.at))
		for _, c := range []struct {
			typ  string
			want []string
		}{{model.EventAtRisk, s.risk}, {model.EventBreached, s.breached}} {
			eventually(t, fmt.Sprintf("%s notices at +%s", c.typ, s.at), func() (bool, string) {
				got := notes.count(c.typ)
				ok := len(got) == len(c.want)
				for _, id := range c.want {
					ok = ok && got[id] == 1
				}
				return ok, describe(got)
			})
		}
		time.Sleep(150 * time.Millisecond) // several polls: nothing early, nothing twice
	}
	if st, b, _ := e.status("vk:1"); st != sla_assigned || b != 1 {
		t.Fatalf("vk:1 status %s breached %d", st, b)
	}
	if n := e.countEvents(model.EventBreached); n["vk:1"] != 1 || n["pos:1"] != 1 {
		t.Fatalf("breach rows %v", n)
	}
}

const sla_assigned = sla.StatusAssigned

func TestBreachExactlyOnceWithTwoInstances(t *testing.T) {
	e := newEnv(t)
	a, _ := e.start("a"), e.start("b")
	notes := e.watchSLA()
	ctx := ctxT(t, 60*time.Second)
	const n = 300
	var evs []model.StatusEvent
	for i := range n {
		evs = append(evs, created(fmt.Sprintf("vk:%d", i), "ЖКХ-Рязань", t0.Add(time.Duration(i)*time.Second)))
	}
	if err := a.Publish(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	eventually(t, "all appeals recorded", func() (bool, string) {
		var c uint64
		_ = e.ch.QueryRow(ctx, "SELECT count() FROM appeal_sla FINAL").Scan(&c)
		return c == n, fmt.Sprint(c)
	})
	// Time passes in small steps, so claims of both instances interleave over many polls.
	for step := range 20 {
		e.clk.Set(t0.Add(8*time.Hour + time.Duration(step*n/20)*time.Second))
		time.Sleep(30 * time.Millisecond)
	}
	e.clk.Set(t0.Add(9 * time.Hour))
	eventually(t, "every appeal breached", func() (bool, string) {
		got := notes.count(model.EventBreached)
		return len(got) == n, describe(nil) + fmt.Sprint(len(got))
	})
	time.Sleep(500 * time.Millisecond)
	for id, c := range notes.count(model.EventBreached) {
		if c != 1 {
			t.Errorf("%s: %d breach notices", id, c)
		}
	}
	rows := e.countEvents(model.EventBreached)
	for id, c := range rows {
		if c != 1 {
			t.Errorf("%s: %d breach rows in appeal_events", id, c)
		}
	}
	if len(rows) != n {
		t.Fatalf("%d appeals with breach rows, want %d", len(rows), n)
	}
}

func TestReassignResolveReopen(t *testing.T) {
	e := newEnv(t)
	eng := e.start("a")
	notes := e.watchSLA()
	ctx := ctxT(t, 90*time.Second)
	if err := eng.Publish(ctx, created("vk:7", "Дороги-Рязань", t0)); err != nil {
		t.Fatal(err)
	}
	cmd := func(typ, role, actor, agency, comment string) (sla.Reply, error) {
		e.clk.Advance(time.Minute)
		return eng.Submit(ctx, model.StatusEvent{Type: typ, AppealID: "vk:7", ActorRole: role, Actor: actor,
			Agency: agency, Comment: comment}, 20*time.Second)
	}
	eventually(t, "appeal recorded", func() (bool, string) { st, _, _ := e.status("vk:7"); return st != "", st })
	steps := []struct {
		name                           string
		typ, role, actor, agency, text string
		want                           error
		status                         string
	}{
		{"curator reassigns", model.EventAssign, model.RoleCurator, "ivanova", "ЖКХ-Рязань", "", nil, sla.StatusAssigned},
		{"old agency may not take it", model.EventTake, model.RoleAgency, "roads", "Дороги-Рязань", "", sla.ErrForbidden, ""},
		{"new agency takes it", model.EventTake, model.RoleAgency, "zhkh", "ЖКХ-Рязань", "", nil, sla.StatusInWork},
		{"taking twice is refused", model.EventTake, model.RoleAgency, "zhkh", "ЖКХ-Рязань", "", sla.ErrInvalidTransition, ""},
		{"agency may not reassign", model.EventAssign, model.RoleAgency, "zhkh", "ЖКХ-Рязань", "", sla.ErrForbidden, ""},
		{"resolve needs a report", model.EventResolve, model.RoleAgency, "zhkh", "ЖКХ-Рязань", "", sla.ErrInvalidCommand, ""},
		{"resolves", model.EventResolve, model.RoleAgency, "zhkh", "ЖКХ-Рязань", "Течь устранена", nil, sla.StatusResolved},
		{"curator reopens", model.EventReopen, model.RoleCurator, "ivanova", "", "Житель: течь снова", nil, sla.StatusAssigned},
	}
	for _, s := range steps {
		rep, err := cmd(s.typ, s.role, s.actor, s.agency, s.text)
		if !errors.Is(err, s.want) {
			t.Fatalf("%s: err %v (reply %+v), want %v", s.name, err, rep, s.want)
		}
		if s.want == nil && (rep.State == nil || rep.State.Status != s.status) {
			t.Fatalf("%s: reply %+v, want status %s", s.name, rep, s.status)
		}
	}
	reopened := e.clk.Now()
	// The first cycle was resolved in time: its deadline passes without a breach.
	e.clk.Set(t0.Add(8*time.Hour + time.Minute))
	time.Sleep(300 * time.Millisecond)
	if got := notes.count(model.EventBreached); len(got) != 0 {
		t.Fatalf("breach after resolution: %v", got)
	}
	// The reopened cycle has its own deadline.
	e.clk.Set(reopened.Add(8*time.Hour + time.Second))
	eventually(t, "breach of the reopened cycle", func() (bool, string) {
		got := notes.count(model.EventBreached)
		return got["vk:7"] == 1, describe(got)
	})
	var history []string
	rows, err := e.ch.Query(ctx, "SELECT event_type, actor FROM appeal_events WHERE appeal_id = 'vk:7' ORDER BY event_time, version")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var typ, actor string
		_ = rows.Scan(&typ, &actor)
		history = append(history, typ+"/"+actor)
	}
	rows.Close()
	want := "[created/processor assign/ivanova take/zhkh resolve/zhkh reopen/ivanova at_risk/sla-timer breached/sla-timer]"
	if fmt.Sprint(history) != want {
		t.Fatalf("history %v\nwant    %s", history, want)
	}
}

func TestRedisWipedMidRun(t *testing.T) {
	e := newEnv(t)
	eng := e.start("a")
	e.start("b")
	notes := e.watchSLA()
	ctx := ctxT(t, 90*time.Second)
	// early:* breach before the wipe; late:* after it; done:1 is resolved and must never breach.
	var evs []model.StatusEvent
	for i := range 20 {
		evs = append(evs, created(fmt.Sprintf("early:%d", i), "ЖКХ-Рязань", t0))
		evs = append(evs, created(fmt.Sprintf("late:%d", i), "ЖКХ-Рязань", t0.Add(2*time.Hour)))
	}
	evs = append(evs, created("done:1", "ЖКХ-Рязань", t0))
	if err := eng.Publish(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	eventually(t, "appeals recorded", func() (bool, string) {
		var c uint64
		_ = e.ch.QueryRow(ctx, "SELECT count() FROM appeal_sla FINAL").Scan(&c)
		return c == 41, fmt.Sprint(c)
	})
	if _, err := eng.Submit(ctx, model.StatusEvent{Type: model.EventResolve, AppealID: "done:1", ActorRole: model.RoleAgency,
		Actor: "zhkh", Agency: "ЖКХ-Рязань", Comment: "сделано"}, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	e.clk.Set(t0.Add(8*time.Hour + time.Minute))
	eventually(t, "early breaches", func() (bool, string) {
		return len(notes.count(model.EventBreached)) == 20, describe(notes.count(model.EventBreached))
	})
	// Redis loses everything of this deployment (a restart without persistence).
	keys, err := e.rdb.Keys(ctx, e.prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v %v", keys, err)
	}
	if err := e.rdb.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "timers rebuilt", func() (bool, string) {
		n, _ := e.rdb.Exists(ctx, e.prefix+"sla:timers:ready:v2").Result()
		return n == 1, ""
	})
	e.clk.Set(t0.Add(10*time.Hour + time.Minute))
	eventually(t, "late breaches after the wipe", func() (bool, string) {
		return len(notes.count(model.EventBreached)) == 40, describe(notes.count(model.EventBreached))
	})
	time.Sleep(500 * time.Millisecond)
	for id, c := range e.countEvents(model.EventBreached) {
		if c != 1 {
			t.Errorf("%s breached %d times", id, c)
		}
	}
	for id, c := range notes.count(model.EventBreached) {
		if c != 1 {
			t.Errorf("%s: %d breach notices", id, c)
		}
	}
	if got := notes.count(model.EventBreached)["done:1"]; got != 0 {
		t.Errorf("resolved appeal breached")
	}
	// The cache was rebuilt lazily from ClickHouse: the API still knows the appeal.
	st, err := eng.Get(context.Background(), "late:3")
	if err != nil || !st.Breached || st.Agency != "ЖКХ-Рязань" {
		t.Fatalf("state after wipe %+v %v", st, err)
	}
}
