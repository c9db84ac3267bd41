package pii

import (
	"strings"
	"sync"
	"unicode/utf8"
)

var (
	dictOnce sync.Once
	dict     *dictionaries
)

// mustDictionaries loads the embedded dictionaries once. They are compiled into the binary, so a failure
// is a broken build, not bad input.
func mustDictionaries() *dictionaries {
	dictOnce.Do(func() {
		d, err := loadDictionaries()
		if err != nil {
			panic(err)
		}
		dict = d
	})
	return dict
}

// scratch holds one text's tokens and spans; pooled because masking runs on every appeal.
type scratch struct {
	toks  []token
	spans []span
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// maskNames replaces every name span of text with nameToken.
func (m *Masker) maskNames(text string) string {
	if !mayHoldName(text) {
		return text
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.toks = tokenize(text, sc.toks)
	sc.spans = m.names.find(text, sc.toks, sc.spans[:0])
	if len(sc.spans) == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, s := range sc.spans {
		b.WriteString(text[last:s.start])
		b.WriteString(nameToken)
		last = s.end
	}
	b.WriteString(text[last:])
	return b.String()
}

// mayHoldName is the cheap pre-check: a name needs a capital Cyrillic letter after the text's first
// letter, or, written in lower case, a patronymic («ич», «вн»). Texts with neither skip tokenizing.
func mayHoldName(text string) bool {
	first := true
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		if r >= 'А' && r <= 'Я' || r == 'Ё' {
			if !first {
				return true
			}
		}
		if r >= 'А' && r <= 'я' || r == 'ё' || r == 'Ё' {
			first = false
		}
		i += n
	}
	return strings.Contains(text, "ич") || strings.Contains(text, "вн")
}
