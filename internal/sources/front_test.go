package sources

import (
	"strings"
	"testing"
)

func TestHTMLSoupRule(t *testing.T) {
	tests := []struct {
		text string
		soup bool
	}{
		{"Яма на дороге", false},
		{"Температура <18 градусов, а должно быть >20", false},
		{"<p>Яма</p>", false}, // two tags: a pasted paragraph is still prose
		{"<div><p><b>Яма</b></p></div>", true},
		{"Длинный текст про двор, где <b>три</b> тега и <i>много</i> слов вокруг них, гораздо больше чем разметки в нём, совсем", false},
		{"Текст <script>alert(1)</script> и <br> ещё", true},
	}
	for _, tc := range tests {
		if got := isHTMLSoup(tc.text); got != tc.soup {
			t.Errorf("isHTMLSoup(%q) = %v", tc.text, got)
		}
	}
}

// BenchmarkSoupCheckAngles: a text full of '<' must cost linear time (it was quadratic once).
func BenchmarkSoupCheckAngles(b *testing.B) {
	text := strings.Repeat("<", 20000)
	for b.Loop() {
		isHTMLSoup(text)
	}
}
