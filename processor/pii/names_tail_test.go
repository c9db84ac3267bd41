package pii

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestSurnameTailsKeepAnswers checks that the two-letter prefilter changes no answer of surnameShaped:
// the suffix test without it decides every surname ending behind two, three and four letters, and every
// folded word of a set of sentences.
func TestSurnameTailsKeepAnswers(t *testing.T) {
	reference := func(w string) bool {
		n := utf8.RuneCountInString(w)
		return n >= 4 && len(w) == 2*n && hasSurnameEnding(w, n)
	}
	var words []string
	for s := range surnameSuffixes {
		for _, p := range []string{"ав", "мор", "петр", "ааа"} {
			words = append(words, foldWord(p+s))
		}
	}
	for _, w := range strings.Fields("Иванов Петрова Сидоровой Коваленко Шевчук Толстого Гагарина улица дом нет холодной воды " +
		"Первомайский проспект Московское шоссе Достоевского Бутырской Зелёная ёлка Ли Цой Smith Дюма") {
		words = append(words, foldWord(w))
	}
	shaped := 0
	for _, w := range words {
		got, want := surnameShaped(w), reference(w)
		if got != want {
			t.Fatalf("surnameShaped(%q) = %v, the loop without the prefilter says %v", w, got, want)
		}
		if got {
			shaped++
		}
	}
	if shaped == 0 || shaped == len(words) {
		t.Fatalf("%d of %d words surname-shaped: the cases do not tell the answers apart", shaped, len(words))
	}
}
