package dedup

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// mixedBatch is a realistic batch: background appeals, the burst pipe reported ten times, a client
// retry and two short texts.
func mixedBatch() []*model.Appeal {
	var b []*model.Appeal
	off := int64(500)
	add := func(src, id, text, oktmo string, at time.Time) {
		off++
		b = append(b, appealAt(src, id, text, oktmo, at, 1, off))
	}
	for i, text := range background {
		add(model.SourceVK, fmt.Sprintf("bg%d", i), text, oktmoRyazan, t0.Add(time.Duration(i)*time.Minute))
		if i < len(burstPipe) {
			add(model.SourcePOS, fmt.Sprintf("bp%d", i), burstPipe[i], oktmoRyazan, t0.Add(time.Duration(i)*time.Minute))
		}
	}
	add(model.SourceVK, "bg3", background[3], oktmoRyazan, t0) // retry of an earlier message
	add(model.Source112, "short1", "Нет света", oktmoSasovo, t0)
	add(model.Source112, "short2", "Нет света", oktmoSasovo, t0)
	return b
}

func clone(batch []*model.Appeal) []*model.Appeal {
	out := make([]*model.Appeal, len(batch))
	for i, a := range batch {
		c := *a
		c.Fingerprint = 0
		out[i] = &c
	}
	return out
}

func deleteKeys(t *testing.T, rdb *redis.Client, pattern string) int {
	t.Helper()
	ctx := testCtx(t)
	n := 0
	iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		if err := rdb.Del(ctx, iter.Val()).Err(); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestReplay(t *testing.T) {
	tests := []struct {
		name  string
		crash func(t *testing.T, rdb *redis.Client, prefix string, batch []*model.Appeal)
	}{
		{"replay after success", func(*testing.T, *redis.Client, string, []*model.Appeal) {}},
		{"crash before the id claims", func(t *testing.T, rdb *redis.Client, prefix string, _ []*model.Appeal) {
			if deleteKeys(t, rdb, prefix+"dedup:id:*") == 0 {
				t.Fatal("no id claims to delete")
			}
		}},
		{"crash after half the id claims", func(t *testing.T, rdb *redis.Client, prefix string, batch []*model.Appeal) {
			for _, a := range batch[len(batch)/2:] {
				rdb.Del(testCtx(t), prefix+"dedup:id:"+a.ID)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, rdb, prefix := newTestDeduper(t)
			ctx := testCtx(t)
			batch := mixedBatch()
			first := decide(t, ctx, d, batch...)
			counts := map[Kind]int{}
			for _, g := range first {
				counts[g.Kind]++
			}
			if counts[ExactDuplicate] != 1 || counts[Voice] < 9 {
				t.Fatalf("first run: %v", counts)
			}
			tc.crash(t, rdb, prefix, batch)
			replay := clone(batch)
			again := decide(t, ctx, d, replay...)
			for i := range first {
				if first[i] != again[i] {
					t.Errorf("appeal %s: first %v, replay %v", batch[i].ID, first[i], again[i])
				}
				if batch[i].Fingerprint != replay[i].Fingerprint {
					t.Errorf("appeal %s: fingerprint changed on replay", batch[i].ID)
				}
			}
		})
	}
}

// TestTwoInstances runs two dedupers (own clients, one prefix) concurrently over interleaved batches in
// which every problem is reported through both, so their claims race. Each problem must end up with
// exactly one incident and all its other reports as voices of it.
func TestTwoInstances(t *testing.T) {
	_, prefix := testenv.Redis(t)
	addr := testenv.RedisAddr(t)
	for round := range 5 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			ctx := testCtx(t)
			var inst [2]*Redis
			for i := range inst {
				rdb := redis.NewClient(&redis.Options{Addr: addr})
				t.Cleanup(func() { rdb.Close() })
				cfg := DefaultConfig()
				cfg.KeyPrefix = fmt.Sprintf("%sr%d:", prefix, round)
				d, err := New(rdb, cfg)
				if err != nil {
					t.Fatal(err)
				}
				inst[i] = d
			}
			r := newRacingReports(model.SourceVK, model.SourcePOS)
			r.decideConcurrently(t, ctx, inst[0], inst[1])
			t.Logf("claim conflicts re-decided: %v + %v", counterValue(inst[0].m.conflicts), counterValue(inst[1].m.conflicts))
			r.check(t)
		})
	}
}

// racingReports: every problem reported three times through each of several sources, cut into small
// batches per source, to be decided concurrently, one goroutine per source.
type racingReports struct {
	problems []string
	batches  [][][]*model.Appeal // per source
	group    map[string]int      // appeal id → problem
	decided  map[string]Decision
}

func newRacingReports(sources ...string) *racingReports {
	r := &racingReports{problems: append(append([]string{}, background...), sameStreet...), group: map[string]int{}}
	r.batches = make([][][]*model.Appeal, len(sources))
	for i, src := range sources {
		var all []*model.Appeal
		for rep := range 3 {
			for p, text := range r.problems {
				if rep%2 == 1 {
					text = strings.ToUpper(text)
				}
				a := appealAt(src, fmt.Sprintf("p%d-r%d", p, rep), text, oktmoRyazan, t0.Add(time.Duration(p)*time.Minute), 0, int64(len(all)))
				r.group[a.ID] = p
				all = append(all, a)
			}
		}
		for j := 0; j < len(all); j += 7 {
			r.batches[i] = append(r.batches[i], all[j:min(j+7, len(all))])
		}
	}
	return r
}

// decideConcurrently decides source i's batches through ds[i % len(ds)], all sources at once.
func (r *racingReports) decideConcurrently(t *testing.T, ctx context.Context, ds ...Deduper) {
	t.Helper()
	r.decided = map[string]Decision{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(r.batches))
	for i := range r.batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, b := range r.batches[i] {
				got, err := ds[i%len(ds)].Decide(ctx, b)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for k, a := range b {
					r.decided[a.ID] = got[k]
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// check: each problem has exactly one incident, and every other report is a voice of it.
func (r *racingReports) check(t *testing.T) {
	t.Helper()
	incidents := map[int][]string{}
	for id, dec := range r.decided {
		if dec.Kind == Incident {
			incidents[r.group[id]] = append(incidents[r.group[id]], id)
		}
	}
	for p := range r.problems {
		if len(incidents[p]) != 1 {
			t.Errorf("problem %d: incidents %v, want exactly one", p, incidents[p])
		}
	}
	for id, dec := range r.decided {
		if dec.Kind == Voice && (r.decided[dec.IncidentID].Kind != Incident || r.group[dec.IncidentID] != r.group[id]) {
			t.Errorf("%s: voice of %s (%v), want an incident of the same problem", id, dec.IncidentID, r.decided[dec.IncidentID])
		}
		if dec.Kind == ExactDuplicate {
			t.Errorf("%s: exact duplicate, but every id is unique", id)
		}
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}
