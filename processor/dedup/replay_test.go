package dedup

import (
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
	problems := append(append([]string{}, background...), sameStreet...)
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
			// Instance i sees source i's reports; report r of problem p is a reformatted copy.
			sources := [2]string{model.SourceVK, model.SourcePOS}
			var batches [2][][]*model.Appeal
			group := map[string]int{}
			for i := range inst {
				var all []*model.Appeal
				for rep := range 3 {
					for p, text := range problems {
						if rep%2 == 1 {
							text = strings.ToUpper(text)
						}
						a := appealAt(sources[i], fmt.Sprintf("p%d-r%d", p, rep), text, oktmoRyazan, t0.Add(time.Duration(p)*time.Minute), 0, int64(len(all)))
						group[a.ID] = p
						all = append(all, a)
					}
				}
				for j := 0; j < len(all); j += 7 {
					batches[i] = append(batches[i], all[j:min(j+7, len(all))])
				}
			}
			decided := map[string]Decision{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			errs := make(chan error, 2)
			for i := range inst {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for _, b := range batches[i] {
						got, err := inst[i].Decide(ctx, b)
						if err != nil {
							errs <- err
							return
						}
						mu.Lock()
						for k, a := range b {
							decided[a.ID] = got[k]
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
			t.Logf("claim conflicts re-decided: %v + %v", counterValue(inst[0].m.conflicts), counterValue(inst[1].m.conflicts))
			incidents := map[int][]string{}
			for id, dec := range decided {
				if dec.Kind == Incident {
					incidents[group[id]] = append(incidents[group[id]], id)
				}
			}
			for p := range problems {
				if len(incidents[p]) != 1 {
					t.Errorf("problem %d: incidents %v, want exactly one", p, incidents[p])
					continue
				}
			}
			for id, dec := range decided {
				if dec.Kind == Voice && (decided[dec.IncidentID].Kind != Incident || group[dec.IncidentID] != group[id]) {
					t.Errorf("%s: voice of %s (%v), want an incident of the same problem", id, dec.IncidentID, decided[dec.IncidentID])
				}
				if dec.Kind == ExactDuplicate {
					t.Errorf("%s: exact duplicate, but every id is unique", id)
				}
			}
		})
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}
