package classify

import (
	"sync"
	"testing"
)

// TestClassifyConcurrent checks that goroutines sharing one Engine (and its scratch pool) get exactly
// the answers a single caller gets. Run with -race.
func TestClassifyConcurrent(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(m, mustTaxonomy(t))
	texts := []string{
		"Не работает уличное освещение на улице Каширина",
		"Надписи на гаражах во дворе дома ул. Дзержинского, 69. Просьба закрасить.",
		"В аптеках нет масок из-за коронавируса",
		"Огромная яма на дороге у школы",
		"В подъезде не работает лифт",
		"",
	}
	want := make([]Prediction, len(texts))
	for i, s := range texts {
		want[i] = e.Classify(s)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 200 {
				i := (g + k) % len(texts)
				got := e.Classify(texts[i])
				if got.Category != want[i].Category || got.Theme != want[i].Theme || got.Executor != want[i].Executor {
					errs <- texts[i]
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("%q: concurrent answer differs from the sequential one", s)
	}
}
