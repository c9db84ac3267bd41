package classify

import "sync"

// oovStems remembers the stems of words the training data lacked. The model stores the stems of every
// training word, so Snowball (≈ 1 µs and an allocation per word) runs only for the rest: names, typos,
// the words of new topics. Live traffic repeats those too (street names, a burst's vocabulary), so a
// bounded cache keyed by the word's hash saves most of that. Dropped whole when full: no bookkeeping.
type oovStems struct {
	mu sync.RWMutex
	m  map[uint64]uint64 // surface-word hash → stem hash
}

const oovStemsMax = 50_000 // ≈ 2 MB

func (c *oovStems) stem(surface uint64, word []rune) uint64 {
	c.mu.RLock()
	st, ok := c.m[surface]
	c.mu.RUnlock()
	if ok {
		return st
	}
	st = snowballStem(surface, word)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= oovStemsMax {
		c.m = make(map[uint64]uint64, 1024)
	}
	c.m[surface] = st
	c.mu.Unlock()
	return st
}
