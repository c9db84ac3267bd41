package classify

import (
	"fmt"
	"math"
	"unicode"

	"github.com/kljensen/snowball/russian"
)

// FeatureConfig says which features a text yields. Its zero value is not useful; start from
// DefaultFeatureConfig.
type FeatureConfig struct {
	// WordNgrams is 1 for stemmed unigrams only (default), 2 to add stemmed bigrams. On the portal data
	// bigrams cost 1.5–2 points of every head under cross-validation: too few texts to estimate them.
	WordNgrams int
	// CharMin and CharMax bound the character n-grams taken inside each word padded with boundary marks.
	// CharMax 0 (the default) disables them: on the portal data 3..5-grams add about one point of
	// category accuracy for 4× the features, 5× the training time and an 8 MB model.
	CharMin, CharMax int
	// CharWeight scales character features against word features before the vector is normalized
	// (default 0.6, used when CharMax > 0): they catch typos and unseen inflections but are many and individually weak.
	CharWeight float32
	// MinDF drops features seen in fewer training texts (default 1: keep all). A word seen once still
	// ties a new appeal to its one near-duplicate (a street, a house, a reporter's wording) through the
	// neighbour vote; with unigrams the vocabulary stays small anyway.
	MinDF int
}

// DefaultFeatureConfig is the configuration the shipped model is trained with.
func DefaultFeatureConfig() FeatureConfig {
	return FeatureConfig{WordNgrams: 1, CharMin: 3, CharMax: 0, CharWeight: 0.6, MinDF: 1}
}

// Validate reports a configuration that cannot work.
func (c FeatureConfig) Validate() error {
	switch {
	case c.WordNgrams < 1 || c.WordNgrams > 2:
		return fmt.Errorf("classify: WordNgrams %d: want 1 or 2", c.WordNgrams)
	case c.CharMax != 0 && (c.CharMin < 1 || c.CharMin > c.CharMax || c.CharMax > 8):
		return fmt.Errorf("classify: char n-grams %d..%d: want 1 <= min <= max <= 8", c.CharMin, c.CharMax)
	case c.CharWeight < 0 || math.IsNaN(float64(c.CharWeight)):
		return fmt.Errorf("classify: CharWeight %v: want >= 0", c.CharWeight)
	case c.MinDF < 1:
		return fmt.Errorf("classify: MinDF %d: want >= 1", c.MinDF)
	}
	return nil
}

// Feature namespaces keep a unigram, a bigram and a char n-gram with equal runes apart.
const (
	nsSurface = 0x5f
	nsStem    = 0x11
	nsBigram  = 0x22
	nsChar    = 0x33
)

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashRunes(ns uint64, rs []rune) uint64 {
	h := uint64(fnvOffset) ^ ns
	h *= fnvPrime
	for _, r := range rs {
		h ^= uint64(r)
		h *= fnvPrime
	}
	return nonZero(h)
}

func hashString(ns uint64, s string) uint64 {
	h := uint64(fnvOffset) ^ ns
	h *= fnvPrime
	for _, r := range s {
		h ^= uint64(r)
		h *= fnvPrime
	}
	return nonZero(h)
}

func hashPair(a, b uint64) uint64 {
	h := uint64(fnvOffset) ^ nsBigram
	h = (h ^ a) * fnvPrime
	h = (h ^ (a >> 32)) * fnvPrime
	h = (h ^ b) * fnvPrime
	h = (h ^ (b >> 32)) * fnvPrime
	return nonZero(h)
}

// nonZero keeps 0 free as the empty slot of the feature table.
func nonZero(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

// rawFeature is a feature hash with the block it belongs to (word or char).
type rawFeature struct {
	hash uint64
	char bool
}

// stemFunc maps a lowercased surface word to the hash of its stem. The trained model answers from a
// table of the training vocabulary and falls back to the Snowball stemmer for unseen words.
type stemFunc func(surface uint64, word []rune) uint64

// snowballStem is the reference stemmer: lowercased, ё folded, Snowball Russian; stop words stay as
// they are (the stemmer's choice) so «не» survives for «не работает».
func snowballStem(_ uint64, word []rune) uint64 {
	return hashString(nsStem, russian.Stem(string(word), false))
}

// normRune lowercases and folds ё to е; it returns -1 for runes that end a word.
func normRune(r rune) rune {
	switch {
	case r >= 'а' && r <= 'я', r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return r
	case r >= 'А' && r <= 'Я':
		return r + ('а' - 'А')
	case r == 'ё' || r == 'Ё':
		return 'е'
	case r >= 'A' && r <= 'Z':
		return r + ('a' - 'A')
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return unicode.ToLower(r)
	}
	return -1
}

// scratch is the per-call working memory of feature extraction, reused through a sync.Pool so the hot
// path does not allocate.
type scratch struct {
	word   []rune
	padded []rune
	raw    []rawFeature
	ids    []int32
	vals   []float32
	scores []float32
	votes  []float32
	sims   []float32
	top    []int32
	zids   []int32 // the stacker's sparse input
	zvals  []float32
	catPow []float32 // each category's probability to the theme exponent
}

// extract appends the raw features of text to sc.raw.
func (c *FeatureConfig) extract(text string, stem stemFunc, sc *scratch) {
	sc.raw = sc.raw[:0]
	sc.word = sc.word[:0]
	var prev uint64
	flush := func() {
		if len(sc.word) == 0 {
			return
		}
		w := sc.word
		digits := isDigits(w)
		var st uint64
		if digits {
			st = hashRunes(nsStem, w)
		} else {
			st = stem(hashRunes(nsSurface, w), w)
		}
		sc.raw = append(sc.raw, rawFeature{hash: st})
		if c.WordNgrams > 1 && prev != 0 {
			sc.raw = append(sc.raw, rawFeature{hash: hashPair(prev, st)})
		}
		prev = st
		if c.CharMax > 0 && !digits {
			sc.padded = append(sc.padded[:0], '<')
			sc.padded = append(sc.padded, w...)
			sc.padded = append(sc.padded, '>')
			p := sc.padded
			for n := c.CharMin; n <= c.CharMax; n++ {
				for i := 0; i+n <= len(p); i++ {
					sc.raw = append(sc.raw, rawFeature{hash: hashRunes(nsChar, p[i:i+n]), char: true})
				}
			}
		}
		sc.word = sc.word[:0]
	}
	for _, r := range text {
		if n := normRune(r); n >= 0 {
			sc.word = append(sc.word, n)
			continue
		}
		flush()
	}
	flush()
}

func isDigits(w []rune) bool {
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
