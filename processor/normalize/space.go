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
	pending := false // a space is owed before the next word
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if isSpace(r) {
			pending = b.Len() > 0
		} else {
			if pending {
				b.WriteByte(' ')
				pending = false
			}
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// clean reports whether s has no space at either end, none but ' ', and no two in a row.
func clean(s string) bool {
	prevSpace := true // a leading space is not clean
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		sp := isSpace(r)
		if sp && (r != ' ' || prevSpace) {
			return false
		}
		prevSpace = sp
		i += n
	}
	return !prevSpace || s == ""
}

// isSpace is unicode.IsSpace with the ASCII cases first.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return r >= utf8.RuneSelf && unicode.IsSpace(r)
}
