package pii

import "strings"

// letterCase is how a word is written: names are written with a capital, or in capitals in 112 cards
// typed with Caps Lock.
type letterCase uint8

const (
	lowerCase letterCase = iota // иванов, and anything mixed (иВанов, McDonald's)
	titleCase                   // Иванов, Завьялова-Ким
	upperCase                   // ИВАНОВ (two letters or more)
)

// token is a word or an initial («И.») of a text, by byte offsets.
type token struct {
	start, end int
	fold       string // lower case, ё as е; "" for an initial
	lc         letterCase
	initial    bool
	// gap describes the text between the previous token and this one.
	spaced   bool // only white space (or nothing) between them: parts of one name
	brokenBy bool // punctuation that ends a clause («,», «.», «—», brackets, quotes) between them
	dashed   bool // the only punctuation between them is «:» or a dash: «Заявитель — Петров»
}

// tokenize splits text into Cyrillic words (a hyphen joins parts: «Завьялова-Ким», «музее-заповеднике»)
// and initials: one capital letter followed by a dot. Other scripts, digits and signs only separate
// tokens. It runs on most appeals, so it reads Cyrillic's two-byte UTF-8 directly.
func tokenize(text string, into []token) []token {
	toks := into[:0]
	prevEnd := 0
	for i := 0; i < len(text); {
		if _, ok := cyrillicAt(text, i); !ok {
			i++ // a byte of anything else; Cyrillic lead bytes never occur inside other characters
			continue
		}
		start := i
		letters, uppers := 0, 0
		title := true     // every hyphen-separated part so far: a capital, then small letters
		partStart := true // the next letter starts a part
		for i < len(text) {
			if r, ok := cyrillicAt(text, i); ok {
				up := isUpperCyrillic(r)
				letters++
				if up {
					uppers++
				}
				if partStart != up {
					title = false
				}
				partStart = false
				i += 2
				continue
			}
			// A hyphen between letters stays inside the word.
			if text[i] == '-' && letters > 0 {
				if _, ok := cyrillicAt(text, i+1); ok {
					i++
					partStart = true
					continue
				}
			}
			break
		}
		t := token{start: start, end: i}
		switch {
		case letters == 1 && uppers == 1 && i < len(text) && text[i] == '.':
			t.initial, t.end, t.lc = true, i+1, upperCase
			i++
		case uppers == letters && letters > 1:
			t.lc = upperCase
		case uppers > 0 && title:
			t.lc = titleCase
		}
		// The gap before the token: what separates it from the previous one.
		gap := text[prevEnd:start]
		t.spaced = gap == " " || strings.TrimSpace(gap) == ""
		if !t.spaced {
			rest := strings.Trim(gap, " \t\n\r\u00a0")
			t.dashed = rest == ":" || rest == "—" || rest == "–" || rest == "-"
			t.brokenBy = !t.dashed && strings.ContainsAny(gap, ".,;:!?()«»\"“”—–")
		}
		toks = append(toks, t)
		prevEnd = t.end
	}
	return toks
}

// cyrillicAt decodes the Russian letter (А–я, Ё, ё) at byte i of text.
func cyrillicAt(text string, i int) (rune, bool) {
	if i+1 >= len(text) || text[i]&0xFE != 0xD0 || text[i+1]&0xC0 != 0x80 {
		return 0, false
	}
	r := rune(text[i]&0x1F)<<6 | rune(text[i+1]&0x3F)
	return r, r >= 'А' && r <= 'я' || r == 'ё' || r == 'Ё'
}

func isUpperCyrillic(r rune) bool { return r >= 'А' && r <= 'Я' || r == 'Ё' }
