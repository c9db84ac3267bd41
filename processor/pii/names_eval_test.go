package pii

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// labelled is one sentence of testdata/names.txt: the text without the marks and its name spans.
type labelled struct {
	text string
	gold []span
}

func readLabelled(t testing.TB) []labelled {
	t.Helper()
	f, err := os.Open("testdata/names.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var l labelled
		var b strings.Builder
		for {
			open := strings.Index(line, "{{")
			if open < 0 {
				break
			}
			end := strings.Index(line[open:], "}}")
			if end < 0 {
				t.Fatalf("unclosed {{ in %q", sc.Text())
			}
			b.WriteString(line[:open])
			start := b.Len()
			b.WriteString(line[open+2 : open+end])
			l.gold = append(l.gold, span{start, b.Len()})
			line = line[open+end+2:]
		}
		b.WriteString(line)
		l.text = b.String()
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// evalCounts are exact-span counts: a found span counts only if it has a labelled span's exact bounds.
type evalCounts struct{ sentences, gold, found, correct int }

func (c evalCounts) precision() float64 { return float64(c.correct) / float64(max(c.found, 1)) }
func (c evalCounts) recall() float64    { return float64(c.correct) / float64(max(c.gold, 1)) }

func evaluate(t testing.TB, m *Masker, set []labelled) evalCounts {
	t.Helper()
	var c evalCounts
	for _, l := range set {
		found := m.names.find(l.text, tokenize(l.text, nil), nil)
		c.sentences++
		c.gold += len(l.gold)
		c.found += len(found)
		for _, f := range found {
			hit := false
			for _, g := range l.gold {
				hit = hit || f == g
			}
			if hit {
				c.correct++
			} else {
				t.Logf("wrong: %q in %q", l.text[f.start:f.end], l.text)
			}
		}
		for _, g := range l.gold {
			hit := false
			for _, f := range found {
				hit = hit || f == g
			}
			if !hit {
				t.Logf("missed: %q in %q", l.text[g.start:g.end], l.text)
			}
		}
	}
	return c
}

// TestNamePrecisionRecall measures name masking on the labelled sentences of testdata/names.txt
// (written before the rules) and keeps both figures at 0.95 or above. The figures go in docs/pii.md.
func TestNamePrecisionRecall(t *testing.T) {
	set := readLabelled(t)
	if len(set) < 300 {
		t.Fatalf("%d labelled sentences, want at least 300", len(set))
	}
	c := evaluate(t, New(), set)
	t.Logf("sentences %d, name spans %d, found %d, exact %d: precision %.3f, recall %.3f",
		c.sentences, c.gold, c.found, c.correct, c.precision(), c.recall())
	if c.precision() < 0.95 || c.recall() < 0.95 {
		t.Errorf("precision %.3f, recall %.3f: both must be at least 0.95", c.precision(), c.recall())
	}
}
