package pii

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNameSpans: any bytes (broken UTF-8, NUL, mixed scripts) give name spans in order, disjoint and
// inside the text; in valid UTF-8 they fall on character boundaries and masking keeps it valid. Seeds:
// the labelled set.
func FuzzNameSpans(f *testing.F) {
	if b, err := os.ReadFile("testdata/names.txt"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			f.Add(strings.NewReplacer("{{", "", "}}", "").Replace(line))
		}
	}
	f.Add("И.П.\x00Иванов\xffА.")
	f.Add("Звонит Иванов-\xd0")
	m := New()
	f.Fuzz(func(t *testing.T, text string) {
		last, valid := 0, utf8.ValidString(text)
		for _, s := range m.names.find(text, tokenize(text, nil), nil) {
			if s.start < last || s.end <= s.start || s.end > len(text) {
				t.Fatalf("span %v after %d in %q", s, last, text)
			}
			if valid && (!utf8.RuneStart(text[s.start]) || s.end < len(text) && !utf8.RuneStart(text[s.end])) {
				t.Fatalf("span %v splits a character of %q", s, text)
			}
			last = s.end
		}
		if out := m.Mask(text); valid && !utf8.ValidString(out) {
			t.Fatalf("Mask(%q) = %q: not UTF-8", text, out)
		}
	})
}
