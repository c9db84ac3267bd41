package dedup

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/russian"
)

// boilerplate holds stems that almost every appeal carries (greetings, requests, address words). They say
// nothing about *which* problem it is, and two different problems at the same address would otherwise
// look alike through them.
var boilerplate = map[string]bool{
	"здравств": true, "здравствуйт": true, "добр": true, "ден": true, "вечер": true, "утр": true,
	"прош": true, "просьб": true, "пожалуйст": true, "помог": true, "помогит": true, "примит": true,
	"мер": true, "разобра": true, "разберит": true, "спасиб": true, "уважаем": true,
	"ул": true, "улиц": true, "д": true, "дом": true, "г": true, "город": true, "кв": true,
	"квартир": true, "пр": true, "проспект": true, "пер": true, "переулок": true, "переулк": true,
	"адрес": true, "возл": true, "около": true, "напрот": true, "срочн": true, "район": true, "жител": true, "наш": true, "сво": true, "очен": true,
	"фи": true, // the stem of the masked name's token «[фио]»: callers' names say nothing about the problem
}

// stemmer stems Russian words through a bounded cache. Snowball costs about a microsecond per word; the
// vocabulary of appeals is small, so nearly every lookup hits the cache. The cache is dropped whole when
// full, which keeps it bounded without LRU bookkeeping.
type stemmer struct {
	mu    sync.RWMutex
	cache map[string]string
	max   int
}

func newStemmer(max int) *stemmer {
	return &stemmer{cache: make(map[string]string, min(max, 1<<16)), max: max}
}

// stem returns the stem of a lower-cased word, or "" for stop words and boilerplate.
func (s *stemmer) stem(word []byte) string {
	s.mu.RLock()
	st, ok := s.cache[string(word)] // no allocation for a map lookup keyed by a converted []byte
	s.mu.RUnlock()
	if ok {
		return st
	}
	w := string(word)
	switch {
	case russian.IsStopWord(w):
		st = ""
	case isDigits(w):
		st = w // house and flat numbers tell neighbouring problems apart
	default:
		st = russian.Stem(w, false)
		if boilerplate[st] || utf8.RuneCountInString(st) < 2 {
			st = ""
		}
	}
	s.mu.Lock()
	if len(s.cache) >= s.max {
		clear(s.cache)
	}
	s.cache[w] = st
	s.mu.Unlock()
	return st
}

// lower is unicode.ToLower with the alphabets of appeals first: the general case table search was a
// tenth of the stage's CPU.
func lower(r rune) rune {
	switch {
	case r >= 'А' && r <= 'Я':
		return r + ('а' - 'А')
	case r >= 'а' && r <= 'я' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
		return r
	case r >= 'A' && r <= 'Z':
		return r + ('a' - 'A')
	}
	return unicode.ToLower(r)
}

// isWordRune is unicode.IsLetter || unicode.IsDigit with the alphabets of appeals first.
func isWordRune(r rune) bool {
	switch {
	case r >= 'а' && r <= 'я' || r >= 'А' && r <= 'Я' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
		return true
	case r < 0x80:
		return false
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isDigits(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}

// stems splits text into words (letters and digits), lower-cases them, folds ё into е and appends their
// stems to dst, skipping stop words.
func (s *stemmer) stems(dst []string, text string, buf []byte) ([]string, []byte) {
	buf = buf[:0]
	flush := func() {
		if len(buf) > 0 {
			if st := s.stem(buf); st != "" {
				dst = append(dst, st)
			}
			buf = buf[:0]
		}
	}
	for _, r := range text {
		switch {
		case r == 'ё' || r == 'Ё':
			buf = utf8.AppendRune(buf, 'е')
		case isWordRune(r):
			buf = utf8.AppendRune(buf, lower(r))
		default:
			flush()
		}
	}
	flush()
	return dst, buf
}
