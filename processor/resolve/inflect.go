package resolve

import "strings"

// Inflection is generated explicitly from a word's ending instead of stemming the text: a stemmer would
// have to be run on every token of every appeal and still mangles proper names ("шилово" and "шилова"
// stem differently), while the few hundred names we know expand to a few thousand exact forms that a
// single map lookup per token finds. Over-generation is harmless: the extra forms are not Russian words
// and never occur in texts.

// inflectMode says how much of the paradigm a word gets.
type inflectMode uint8

const (
	inflectAll     inflectMode = iota // nouns and adjectives in every case
	inflectAdjOnly                    // only adjectives; other words are fixed (street names in the genitive: "Ленина")
	inflectNone                       // the word as written
)

// Case endings, grouped by the paradigm a word's ending selects; space-separated so they stay constant.
const (
	adjHard = "ый ого ому ым ом ая ой ую ою ое ые ых ыми"
	adjSoft = "ий ого ому им ом ая ой ую ою ое ие их ими" // after к г х ж ш ч щ
	adjEnds = "ый ий ой ое ее ая яя ые ие"
	nounO   = "о а у ом е"       // Шилово, Канищево (also used unchanged: «в Шилово»)
	nounA   = "а ы е у ой ою"    // Тума
	nounAk  = "а и е у ой ою ей" // Соколовка, Горроща, Солотча
	nounYa  = "я и е ю ей ею"    // Песочня
	nounSft = "ь и ью я ю ем е"  // Рязань (f.), Гусь (m.): the gender is unknown, both are generated
	nounCns = "а у ом е"         // Касимов, Шацк, Кадом
	pluralI = "и ов ам ами ах"   // Клепики
	pluralY = "ы ов ам ами ах"
	pluralV = "и ев ям ями ях" // Сараи
)

// inflect returns the forms of one normalized word (lowercase, ё folded). Hyphenated words inflect both
// halves («Спасске-Рязанском» as well as «Спасск-Рязанского»).
func inflect(word string, mode inflectMode) []string {
	if mode == inflectNone {
		return []string{word}
	}
	if i := strings.LastIndexByte(word, '-'); i > 0 && i < len(word)-1 {
		var out []string
		for _, a := range inflect(word[:i], mode) {
			for _, b := range inflect(word[i+1:], mode) {
				out = append(out, a+"-"+b)
			}
		}
		return dedup(append(out, word))
	}
	stem, ends := paradigm(word)
	if mode == inflectAdjOnly && !isAdjective(word) {
		return []string{word}
	}
	out := []string{word}
	for _, e := range strings.Fields(ends) {
		out = append(out, stem+e)
	}
	return dedup(out)
}

func isAdjective(word string) bool {
	for _, e := range strings.Fields(adjEnds) {
		if strings.HasSuffix(word, e) && len([]rune(word)) > 4 {
			return true
		}
	}
	return false
}

// paradigm picks the stem and endings from the nominative's ending.
func paradigm(w string) (stem, endings string) {
	runes := []rune(w)
	n := len(runes)
	if n < 3 {
		return w, ""
	}
	last, prev := runes[n-1], runes[n-2]
	stem2 := string(runes[:n-2])
	stem1 := string(runes[:n-1])
	if isAdjective(w) {
		if strings.ContainsRune("кгхжшчщ", lastRune(stem2)) {
			return stem2, adjSoft
		}
		return stem2, adjHard
	}
	switch last {
	case 'о':
		return stem1, nounO
	case 'а':
		if strings.ContainsRune("кгхжшчщц", prev) {
			return stem1, nounAk
		}
		return stem1, nounA
	case 'я':
		return stem1, nounYa
	case 'ь':
		return stem1, nounSft
	case 'и':
		if strings.ContainsRune("аеиоуыэюя", prev) {
			return stem1, pluralV
		}
		return stem1, pluralI
	case 'ы':
		return stem1, pluralY
	case 'е', 'у', 'ю', 'э', 'й':
		return w, "" // шоссе, Поле: indeclinable or too irregular; list extra forms in the data
	}
	return w, nounCns
}

func lastRune(s string) rune {
	r := []rune(s)
	if len(r) == 0 {
		return 0
	}
	return r[len(r)-1]
}

func dedup(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
