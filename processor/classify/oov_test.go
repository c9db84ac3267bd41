package classify

import (
	"fmt"
	"sync"
	"testing"
)

// Words the model never saw get the stems Snowball gives them, from the cache or not, under concurrent
// use, and the cache stays bounded.
func TestOOVStemsAreSnowballs(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	words := make([][]rune, 0, 300)
	for i := range 300 {
		w := []rune(fmt.Sprintf("заглушкинской%dулицами", i)) // not Russian, not in the training data
		if _, known := m.stemIdx.get(hashRunes(nsSurface, w)); known {
			t.Fatalf("%q is in the model's vocabulary: pick another test word", string(w))
		}
		words = append(words, w)
	}
	words = append(words, []rune("переподключениями"), []rune("водоотведением"))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 3 {
				for i := range words {
					w := words[(i+g*31+round*7)%len(words)]
					surface := hashRunes(nsSurface, w)
					if got, want := m.stem(surface, w), snowballStem(surface, w); got != want {
						t.Errorf("%q: stem hash %x, Snowball %x", string(w), got, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()

	var c oovStems
	for i := range oovStemsMax + 10 {
		w := []rune(fmt.Sprintf("слово%d", i))
		c.stem(uint64(i+1), w)
	}
	if n := len(c.m); n > oovStemsMax {
		t.Fatalf("cache holds %d stems, bound %d", n, oovStemsMax)
	}
}
