package enrich

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/classify"
)

// counting classifies by echoing the text and counts the calls that reached it.
type counting struct{ calls atomic.Int64 }

func (c *counting) Classify(text string) classify.Prediction {
	c.calls.Add(1)
	return classify.Prediction{Category: classify.Label{Name: "cat of " + text, Conf: 0.5}}
}

func TestCachedClassifierAnswersRepeatsFromCache(t *testing.T) {
	next := &counting{}
	c := NewCachedClassifier(next, 4) // two generations of two texts
	reg := prometheus.NewRegistry()
	if err := c.Register(reg); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		text  string
		calls int64 // calls that reached the model so far
	}{
		{"a", 1}, {"a", 1}, {"b", 2}, {"a", 2}, // a, b fill the current generation
		{"c", 3},           // current full: {a b} becomes the previous generation
		{"a", 3},           // found in the previous generation, carried over
		{"d", 4},           // current {c a} full: {a b} dropped
		{"b", 5},           // evicted: classified again
		{"c", 5}, {"d", 5}, // still remembered
	} {
		if got := c.Classify(tc.text); got.Category.Name != "cat of "+tc.text {
			t.Fatalf("step %d: %q classified as %q", i, tc.text, got.Category.Name)
		}
		if n := next.calls.Load(); n != tc.calls {
			t.Fatalf("step %d (%q): the model was called %d times, want %d", i, tc.text, n, tc.calls)
		}
	}
	if hits, lookups := testutil.ToFloat64(c.hits), testutil.ToFloat64(c.lookups); hits != 5 || lookups != 10 {
		t.Fatalf("metrics: %v hits of %v lookups, want 5 of 10", hits, lookups)
	}
	if len(c.cur)+len(c.prev) > 4 {
		t.Fatalf("cache holds %d texts, bound 4", len(c.cur)+len(c.prev))
	}
}

// Long texts are classified but not kept, and the bytes held stay bounded whatever the texts' length.
func TestCachedClassifierBoundsBytes(t *testing.T) {
	next := &counting{}
	c := NewCachedClassifier(next, 1<<20)
	long := strings.Repeat("я", cacheBytes/64) // 2 bytes a letter: over the per-text limit
	c.Classify(long)
	c.Classify(long)
	if n := next.calls.Load(); n != 2 {
		t.Fatalf("a text over the limit reached the model %d times, want 2 (not cached)", n)
	}
	mid := strings.Repeat("x", cacheBytes/100)
	for i := range 300 {
		c.Classify(fmt.Sprint(i) + mid)
	}
	held := 0
	for text := range c.cur {
		held += len(text)
	}
	for text := range c.prev {
		held += len(text)
	}
	if held > cacheBytes {
		t.Fatalf("cache holds %d bytes of text, bound %d", held, cacheBytes)
	}
	if got := c.Classify("299" + mid); got.Category.Name != "cat of 299"+mid || next.calls.Load() != 302 {
		t.Fatalf("the latest text is not remembered: %d model calls", next.calls.Load())
	}
}

// The cache changes nothing but the cost: the real model's answers through it equal its direct answers,
// for concurrent callers too.
func TestCachedClassifierEqualsModel(t *testing.T) {
	m, err := classify.DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	eng := classify.NewEngine(m, nil)
	c := NewCachedClassifier(eng, 16)
	texts := make([]string, 40)
	for i := range texts {
		texts[i] = fmt.Sprintf("Во дворе дома %d по улице Гагарина яма, машины не проедут, просим отремонтировать", i%25)
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range texts {
				text := texts[(i+w*7)%len(texts)]
				if got, want := c.Classify(text), eng.Classify(text); !reflect.DeepEqual(got, want) {
					t.Errorf("%q: cached %+v, model %+v", text, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// A source that states category, theme and agency is not classified at all; one that states only some
// of them is.
func TestStatedLabelsSkipTheModel(t *testing.T) {
	next := &counting{}
	s := &Stage{Classifier: next}
	full := &model.Appeal{Text: "течёт крыша", Hints: model.Hints{Category: "Многоквартирные дома",
		Theme: "Протечки с кровли", Agency: "ГЖИ Рязанской области"}}
	s.Enrich(full)
	if n := next.calls.Load(); n != 0 {
		t.Fatalf("stated appeal classified %d times", n)
	}
	if full.Category != "Многоквартирные дома" || full.Theme != "Протечки с кровли" || full.Agency != "ГЖИ Рязанской области" ||
		full.CategoryConf != 1 || full.ThemeConf != 1 || full.AgencyConf != 1 {
		t.Fatalf("stated labels not kept: %+v", full)
	}
	partial := &model.Appeal{Text: "течёт крыша", Hints: model.Hints{Category: "Многоквартирные дома"}}
	s.Enrich(partial)
	if n := next.calls.Load(); n != 1 || partial.Theme != "" || partial.Category != "Многоквартирные дома" {
		t.Fatalf("category-only appeal: %d calls, %+v", n, partial)
	}
}
