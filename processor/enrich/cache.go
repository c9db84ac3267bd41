package enrich

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/teplokarta/teplokarta/internal/obs"
	"github.com/teplokarta/teplokarta/processor/classify"
)

// DefaultCacheEntries bounds CachedClassifier's entries: about 4 MB for texts of the portal's typical
// length. Its bytes are bounded too (cacheBytes), whatever the texts' length.
const DefaultCacheEntries = 8192

// cacheBytes bounds the texts the cache holds (both generations), and a text longer than a 64th of it is
// not cached: a few long posts must not pin megabytes.
const cacheBytes = 8 << 20

// CachedClassifier remembers the predictions of recent texts. The same text comes again and again before
// deduplication sees it: client retries, a post copied to another channel, a replay after a crash, the
// same template from one reporter. Classification is the processor's costliest step per appeal, and a
// prediction depends on the text alone, so a repeat costs a map lookup.
//
// Two generations make it an approximate LRU with O(1) work and no per-entry bookkeeping: lookups go to
// the current map, then the previous one (a hit there is carried over); when the current map is full it
// becomes the previous one and the oldest generation is dropped.
type CachedClassifier struct {
	next Classifier
	half int

	mu        sync.Mutex
	cur, prev map[string]classify.Prediction
	curBytes  int // text bytes in cur

	lookups, hits prometheus.Counter
}

// NewCachedClassifier wraps next with a cache of at most entries texts (DefaultCacheEntries if ≤ 0).
func NewCachedClassifier(next Classifier, entries int) *CachedClassifier {
	if entries <= 0 {
		entries = DefaultCacheEntries
	}
	half := max(entries/2, 1)
	return &CachedClassifier{
		next: next, half: half,
		cur: make(map[string]classify.Prediction, half), prev: map[string]classify.Prediction{},
		lookups: prometheus.NewCounter(prometheus.CounterOpts{Name: "teplokarta_enrich_classify_lookups_total",
			Help: "Texts classified through the prediction cache."}),
		hits: prometheus.NewCounter(prometheus.CounterOpts{Name: "teplokarta_enrich_classify_cache_hits_total",
			Help: "Texts whose prediction came from the cache (the same text was classified recently)."}),
	}
}

// Classify implements Classifier. Concurrent misses of one text may both classify it: harmless, the
// answers are equal.
func (c *CachedClassifier) Classify(text string) classify.Prediction {
	c.lookups.Inc()
	c.mu.Lock()
	p, ok := c.cur[text]
	if !ok {
		if p, ok = c.prev[text]; ok {
			c.putLocked(text, p)
		}
	}
	c.mu.Unlock()
	if ok {
		c.hits.Inc()
		return p
	}
	p = c.next.Classify(text)
	if len(text) <= cacheBytes/64 {
		c.mu.Lock()
		c.putLocked(text, p)
		c.mu.Unlock()
	}
	return p
}

func (c *CachedClassifier) putLocked(text string, p classify.Prediction) {
	if len(c.cur) >= c.half || c.curBytes+len(text) > cacheBytes/2 {
		c.prev, c.cur, c.curBytes = c.cur, make(map[string]classify.Prediction, c.half), 0
	}
	c.cur[text] = p
	c.curBytes += len(text)
}

// Register adds the cache's counters to reg.
func (c *CachedClassifier) Register(reg prometheus.Registerer) error {
	return obs.Register(reg, "enrich", c.lookups, c.hits)
}
