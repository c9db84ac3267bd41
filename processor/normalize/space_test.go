package normalize

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCollapseSpace(t *testing.T) {
	for _, s := range []string{
		"", " ", "  ", "a", " a", "a ", "a b", "a  b", "a\tb", "a \n b", "\u00a0a\u00a0\u00a0b\u2028",
		"Нет воды на ул. Гагарина", "Нет  воды\r\nна ул.\u3000Гагарина ", "\x85x", "a\xffb", "a \xff b",
		"\xe2\x80", "x\u0085y", "a\u200bb", // U+200B is no space to Go
	} {
		want := strings.Join(strings.Fields(s), " ")
		if got := collapseSpace(s); got != want {
			t.Errorf("collapseSpace(%q) = %q, want %q", s, got, want)
		}
	}
}

func FuzzCollapseSpace(f *testing.F) {
	for _, s := range []string{"a  b", " x ", "Нет\u00a0воды", "\xff \t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := collapseSpace(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Errorf("collapseSpace(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestSpaceLeadBytes checks spaceAt's premise: every white-space character outside ASCII begins with one
// of the lead bytes it decodes.
func TestSpaceLeadBytes(t *testing.T) {
	for r := rune(utf8.RuneSelf); r <= unicode.MaxRune; r++ {
		if !unicode.IsSpace(r) {
			continue
		}
		s := string(r)
		if spaceAt(s, 0) != len(s) {
			t.Errorf("%U (% x) is white space but spaceAt misses it", r, s)
		}
	}
}

func BenchmarkCollapseSpace(b *testing.B) {
	text := strings.Repeat("Во дворе дома 12 по улице Гагарина уже неделю не вывозят мусор, контейнеры переполнены. ", 4)
	text = text[:len(text)-1]
	for b.Loop() {
		collapseSpace(text)
	}
}
