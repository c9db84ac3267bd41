package timers_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/sla/timers"
)

func newStore(t testing.TB, rdb redis.UniversalClient, prefix string, lease time.Duration, batch int) *timers.Store {
	t.Helper()
	s, err := timers.New(rdb, timers.Config{KeyPrefix: prefix, Lease: lease, Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func schedule(t testing.TB, s *timers.Store, rdb redis.UniversalClient, k timers.Kind, at map[string]time.Time) {
	t.Helper()
	ctx := context.Background()
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for id, when := range at {
			s.Schedule(ctx, p, k, id, when)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestClaimOnlyDueAndReschedule(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	s := newStore(t, rdb, prefix, time.Minute, 100)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	schedule(t, s, rdb, timers.Breach, map[string]time.Time{"a": t0, "b": t0.Add(time.Hour), "c": t0.Add(2 * time.Hour)})
	schedule(t, s, rdb, timers.Breach, map[string]time.Time{"c": t0.Add(30 * time.Minute)}) // moved earlier
	cases := []struct {
		now  time.Time
		want []string
	}{
		{t0.Add(-time.Millisecond), nil},
		{t0, []string{"a"}},
		{t0.Add(45 * time.Minute), []string{"c"}},
		{t0.Add(45 * time.Minute), nil}, // claimed ones are not handed out twice
		{t0.Add(3 * time.Hour), []string{"b"}},
	}
	for i, c := range cases {
		got, err := s.Claim(ctx, timers.Breach, c.now)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range got {
			ids = append(ids, d.AppealID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(c.want) {
			t.Fatalf("step %d at %s: claimed %v, want %v", i, c.now, ids, c.want)
		}
		if err := s.Ack(ctx, got); err != nil {
			t.Fatal(err)
		}
	}
}

func TestClaimExactlyOnceAcrossInstances(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	other := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	defer other.Close()
	stores := []*timers.Store{newStore(t, rdb, prefix, time.Minute, 37), newStore(t, other, prefix, time.Minute, 37)}
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	const n = 3000
	at := map[string]time.Time{}
	for i := range n {
		at[fmt.Sprintf("ap-%d", i)] = t0.Add(time.Duration(i) * time.Millisecond)
	}
	schedule(t, stores[0], rdb, timers.Breach, at)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%2]
			for ctx.Err() == nil {
				got, err := s.Claim(ctx, timers.Breach, t0.Add(time.Hour))
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.AppealID]++
					if want := at[d.AppealID]; !d.At.Equal(want) {
						t.Errorf("%s: due at %s, want %s", d.AppealID, d.At, want)
					}
				}
				mu.Unlock()
				if err := s.Ack(ctx, got); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct timers, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("%s claimed %d times", id, c)
		}
	}
}

func TestUnacknowledgedClaimReturnsAfterLease(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	s := newStore(t, rdb, prefix, 10*time.Second, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	schedule(t, s, rdb, timers.AtRisk, map[string]time.Time{"x": t0})
	first, err := s.Claim(ctx, timers.AtRisk, t0) // the claimer "dies" without Ack
	if err != nil || len(first) != 1 {
		t.Fatalf("first claim %v %v", first, err)
	}
	if again, _ := s.Claim(ctx, timers.AtRisk, t0.Add(9*time.Second)); len(again) != 0 {
		t.Fatalf("retaken inside the lease: %v", again)
	}
	again, err := s.Claim(ctx, timers.AtRisk, t0.Add(11*time.Second))
	if err != nil || len(again) != 1 || again[0] != first[0] {
		t.Fatalf("after the lease: %v %v, want %v", again, err, first)
	}
	if err := s.Ack(ctx, again); err != nil {
		t.Fatal(err)
	}
	if last, _ := s.Claim(ctx, timers.AtRisk, t0.Add(time.Hour)); len(last) != 0 {
		t.Fatalf("acknowledged timer came back: %v", last)
	}
}
