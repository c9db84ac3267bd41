package dedup

import (
	"fmt"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/kljensen/snowball/russian"
)

// The stem cache answers as Snowball does, from any number of goroutines at once, and stays within its
// bound however many distinct words go through it.
func TestStemmerCache(t *testing.T) {
	want := func(w string) string {
		switch {
		case russian.IsStopWord(w):
			return ""
		case isDigits(w):
			return w
		}
		st := russian.Stem(w, false)
		if boilerplate[st] || utf8.RuneCountInString(st) < 2 {
			return ""
		}
		return st
	}
	endings := []string{"а", "ой", "ами", "ого", "ение", "ять", "ость", "ах"}
	words := []string{"и", "улица", "дом", "23"} // a stop word, boilerplate, a house number
	for i := range 3000 {
		words = append(words, fmt.Sprintf("подъезд%s%d", endings[i%len(endings)], i), fmt.Sprint(i))
	}
	const bound = 1000
	s := newStemmer(bound)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 3 { // again and again: from the snapshot, from recent, computed
				for i := range words {
					w := words[(i+g*997+round*31)%len(words)]
					if got := s.stem([]byte(w)); got != want(w) {
						t.Errorf("stem(%q) = %q, want %q", w, got, want(w))
						return
					}
				}
			}
		})
	}
	wg.Wait()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if n := len(s.cache); n > bound {
		t.Errorf("%d cached words, over the bound of %d", n, bound)
	}
}
