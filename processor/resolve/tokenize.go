package resolve

import (
	"unicode"
	"unicode/utf8"
)

// token is one word of a normalized text: norm[start:end] is lowercase with ё folded to е.
type token struct {
	start, end int32
	upper      bool // the original word began with a capital letter
	sentence   bool // the word opens a sentence, so its capital says nothing
	dash       bool // a dash separates the word from the previous one: «Рязань - Брыкин Бор»
	punct      bool // other punctuation does: «Спас-Клепики, ул. Просвещения»
}

// tokenize lowercases text into norm (ё→е) and records word boundaries. Letters, digits and hyphens
// between them form a word ("спас-клепики", "р-н"); everything else separates words. Russian texts keep
// their byte length when lowercased, so norm never needs more than len(text) bytes: callers pass buffers
// on their stack and nothing is allocated for ordinary appeal texts.
func tokenize(text string, norm []byte, toks []token) ([]byte, []token) {
	inWord := false
	sentence, dash, punct := true, false, false
	wordLen := 0 // runes in the last word: a period after a short one ends an abbreviation («г.», «ул.»)
	var cur token
	for i := 0; i < len(text); {
		c := text[i]
		// Fast path: Cyrillic letters are lowercased on the bytes (А-П → а-п, Р-Я → р-я, Ё/ё → е),
		// the bulk of every text, without decoding runes.
		if (c == 0xD0 || c == 0xD1) && i+1 < len(text) {
			if lo, hi, upper, ok := cyrillic(c, text[i+1]); ok {
				if !inWord {
					cur = token{start: int32(len(norm)), upper: upper, sentence: sentence, dash: dash, punct: punct}
					inWord = true
					sentence, dash, punct = false, false, false
					wordLen = 0
				}
				wordLen++
				norm = append(norm, lo, hi)
				i += 2
				continue
			}
		}
		if c == ' ' { // the next most common byte
			if inWord {
				cur.end = int32(len(norm))
				toks = append(toks, cur)
				inWord = false
			}
			i++
			continue
		}
		var r rune
		size := 1
		if c < utf8.RuneSelf {
			r = rune(c)
		} else {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		lower, isLetter, isUpper := fold(r)
		if isLetter {
			if !inWord {
				cur = token{start: int32(len(norm)), upper: isUpper, sentence: sentence, dash: dash, punct: punct}
				inWord = true
				sentence, dash, punct = false, false, false
				wordLen = 0
			}
			wordLen++
			norm = utf8.AppendRune(norm, lower)
			continue
		}
		if r == '-' && inWord && i < len(text) && startsWord(text[i:]) {
			norm = append(norm, '-')
			continue
		}
		if inWord {
			cur.end = int32(len(norm))
			toks = append(toks, cur)
			inWord = false
		}
		switch r {
		case ' ', '\t', '\r', 0xA0:
		case '.':
			sentence, punct = sentence || wordLen > 3, true
		case '!', '?', '\n', ';':
			sentence, punct = true, true
		case '-', '–', '—':
			dash = true
		default:
			punct = true
		}
	}
	if inWord {
		cur.end = int32(len(norm))
		toks = append(toks, cur)
	}
	return norm, toks
}

// cyrillic lowercases a two-byte UTF-8 Russian letter; ok=false for anything else.
func cyrillic(b0, b1 byte) (lo, hi byte, upper, ok bool) {
	if b0 == 0xD0 {
		switch {
		case b1 >= 0x90 && b1 <= 0x9F: // А-П
			return 0xD0, b1 + 0x20, true, true
		case b1 >= 0xA0 && b1 <= 0xAF: // Р-Я
			return 0xD1, b1 - 0x20, true, true
		case b1 >= 0xB0 && b1 <= 0xBF: // а-п
			return 0xD0, b1, false, true
		case b1 == 0x81: // Ё
			return 0xD0, 0xB5, true, true
		}
		return 0, 0, false, false
	}
	switch {
	case b1 >= 0x80 && b1 <= 0x8F: // р-я
		return 0xD1, b1, false, true
	case b1 == 0x91: // ё
		return 0xD0, 0xB5, false, true
	}
	return 0, 0, false, false
}

// fold maps a rune to its matching form: lowercase, ё→е. It reports whether the rune is part of a word.
func fold(r rune) (lower rune, letter, upper bool) {
	switch {
	case r >= 'а' && r <= 'я':
		return r, true, false
	case r >= 'А' && r <= 'Я':
		return r + ('а' - 'А'), true, true
	case r == 'ё':
		return 'е', true, false
	case r == 'Ё':
		return 'е', true, true
	case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return r, true, false
	case r >= 'A' && r <= 'Z':
		return r + ('a' - 'A'), true, true
	case r < utf8.RuneSelf:
		return r, false, false
	case unicode.IsLetter(r):
		l := unicode.ToLower(r)
		return l, true, l != r
	}
	return r, false, false
}

func startsWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	_, letter, _ := fold(r)
	return letter
}

// normalize returns the matching form of a short string (names, data files): words joined by one space.
func normalize(s string) string {
	norm, toks := tokenize(s, make([]byte, 0, len(s)), nil)
	out := make([]byte, 0, len(norm))
	for i, t := range toks {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, norm[t.start:t.end]...)
	}
	return string(out)
}
