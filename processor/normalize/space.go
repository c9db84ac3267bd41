package normalize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// collapseSpace is strings.Join(strings.Fields(s), " "): every run of Unicode white space becomes one
// space, none left at either end. Most texts already are so, and then it returns s itself instead of
// allocating the words and the joined copy.
func collapseSpace(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if n := spaceAt(s, i); n > 0 {
			i += n
			continue
		}
		j := i + 1 // the word runs to the next space
		for j < len(s) && spaceAt(s, j) == 0 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:j])
		i = j
	}
	return b.String()
}

// clean reports whether s has no space at either end, none but ' ', and no two in a row.
func clean(s string) bool {
	prevSpace := true // a leading space is not clean
	for i := 0; i < len(s); i++ {
		if spaceByte[s[i]] == 0 { // most bytes: looked up here, spaceAt is too big to inline
			prevSpace = false
			continue
		}
		n := spaceAt(s, i)
		if n == 0 {
			prevSpace = false
			continue
		}
		if s[i] != ' ' || prevSpace {
			return false
		}
		prevSpace = true
		i += n - 1
	}
	return !prevSpace || s == ""
}

// spaceAt returns the length of the white-space character at s[i], 0 if there is none. Outside ASCII only
// the lead bytes C2, E1, E2 and E3 begin one (U+0085, U+00A0, U+1680, U+2000–U+205F, U+3000); any other
// byte is part of no space. A lead byte never sits inside another character, so stepping a byte at a
// time meets every character where strings.Fields' decoding does.
func spaceAt(s string, i int) int {
	switch spaceByte[s[i]] {
	case asciiSpace:
		return 1
	case spaceLead:
		if r, n := utf8.DecodeRuneInString(s[i:]); unicode.IsSpace(r) {
			return n
		}
	}
	return 0
}

const (
	asciiSpace = 1 + iota
	spaceLead
)

// spaceByte classifies bytes for spaceAt: a table lookup per byte instead of a switch.
var spaceByte = [256]uint8{' ': asciiSpace, '\t': asciiSpace, '\n': asciiSpace, '\v': asciiSpace, '\f': asciiSpace,
	'\r': asciiSpace, 0xc2: spaceLead, 0xe1: spaceLead, 0xe2: spaceLead, 0xe3: spaceLead}
