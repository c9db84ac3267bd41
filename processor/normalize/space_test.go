package normalize

import (
	"strings"
	"testing"
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
