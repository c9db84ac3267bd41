package pii

import (
	"strings"
	"unicode/utf8"
)

// nameToken replaces a person's name (ФИО) in masked text.
const nameToken = "[фио]"

// nameFinder finds the spans of people's names in a text: surname + first name (+ patronymic), first name +
// patronymic, surname with initials on either side, and a lone surname right after a word that announces
// a person («звонит», «участковый»). A name standing up to four words after a place marker («улица»,
// «им.», «памятник») is a street's or an institution's and stays. Method and measured precision and
// recall: docs/pii.md.
type nameFinder struct {
	d *dictionaries
}

// span is a name's byte range in the text.
type span struct{ start, end int }

// find appends the name spans of text, in order and disjoint, to into.
func (f *nameFinder) find(text string, toks []token, into []span) []span {
	out := into
	covered := 0 // tokens before this index belong to a found name
	for i := 0; i < len(toks); i++ {
		if i < covered {
			continue
		}
		s, e := f.nameAt(text, toks, i, covered)
		if e <= s {
			continue
		}
		if f.afterPlaceMarker(text, toks, s) {
			covered = e
			continue
		}
		out = append(out, span{toks[s].start, toks[e-1].end})
		covered = e
	}
	return out
}

// nameAt returns the tokens [s, e) of a name that i starts or anchors (its first name, patronymic or first
// initial), or e <= s when there is none. Tokens before floor belong to an earlier name.
func (f *nameFinder) nameAt(text string, toks []token, i, floor int) (s, e int) {
	t := &toks[i]
	switch {
	case t.initial:
		return f.initialsAt(text, toks, i, floor)
	case t.lc == lowerCase:
		// Lower-case names are masked only with a patronymic, the one part that cannot be an ordinary
		// word: «звонит петрова анна ивановна».
		if i+1 < len(toks) && toks[i+1].spaced && toks[i+1].lc == lowerCase && mayBePatronymic(text[toks[i+1].start:toks[i+1].end]) &&
			f.isFirst(text, t) && f.isPatronymic(text, &toks[i+1], false) {
			s, e = i, i+2
			if i-1 >= floor && t.spaced && toks[i-1].lc == lowerCase && f.isSurname(text, &toks[i-1]) {
				s = i - 1
			}
			return s, e
		}
		return 0, 0
	case f.isFirst(text, t):
		return f.firstNameAt(text, toks, i, floor)
	case f.isPatronymic(text, t, true):
		// A patronymic after a first name the dictionary lacks: «Мамедов Эльдар Рашидович».
		if i-1 >= floor && t.spaced && isCap(&toks[i-1]) && !f.isMarker(text, &toks[i-1]) {
			s = i - 1
			if s-1 >= floor && toks[s].spaced && isCap(&toks[s-1]) && f.isSurname(text, &toks[s-1]) {
				s--
			}
			return s, i + 1
		}
		return 0, 0
	case f.isSurname(text, t):
		return f.loneSurnameAt(text, toks, i)
	}
	return 0, 0
}

// firstNameAt builds a name around the capitalised first name at i: [surname] first [patronymic] or
// first [patronymic] [surname]; a first name alone is not a name (it identifies nobody).
func (f *nameFinder) firstNameAt(text string, toks []token, i, floor int) (s, e int) {
	s, e = i, i+1
	hasPatronymic := e < len(toks) && toks[e].spaced && isCap(&toks[e]) && f.isPatronymic(text, &toks[e], false)
	if hasPatronymic {
		e++
	}
	if k := i - 1; k >= floor && toks[i].spaced && isCap(&toks[k]) && !f.isMarker(text, &toks[k]) {
		switch {
		case f.isSurname(text, &toks[k]):
			s = k
		case hasPatronymic && k-1 >= 0 && (toks[k].spaced || toks[k].dashed) && f.isPersonContext(text, &toks[k-1]) && !f.isPersonContext(text, &toks[k]):
			s = k // a surname of another shape after «звонит»: «Звонит Цой Виктор Робертович»
		}
	}
	if s == i && e < len(toks) && toks[e].spaced && isCap(&toks[e]) && f.isSurname(text, &toks[e]) {
		e++
	}
	if e-s < 2 {
		return 0, 0
	}
	return s, e
}

// initialsAt builds a name around one or two initials at i: «И. П. Иванов», «Иванов И.П.». With a single
// initial the surname must look like one («А. Иванов», not «корпус Б. Звоните»).
func (f *nameFinder) initialsAt(text string, toks []token, i, floor int) (s, e int) {
	j := i + 1
	for j < len(toks) && j-i < 2 && toks[j].initial && toks[j].spaced {
		j++
	}
	n := j - i
	ok := func(t *token) bool {
		return isCap(t) && !f.isMarker(text, t) && !f.isPersonContext(text, t) && (n >= 2 || f.isSurname(text, t))
	}
	right := j < len(toks) && toks[j].spaced && ok(&toks[j])
	left := i-1 >= floor && toks[i].spaced && ok(&toks[i-1])
	// Both sides capitalised («Скобликовой О.А. Спасибо»): the side shaped like a surname wins, else the
	// right one (initials come first in signatures: «И. П. Иванов»).
	if left && right && f.isSurname(text, &toks[i-1]) && !f.isSurname(text, &toks[j]) {
		right = false
	}
	switch {
	case right:
		return i, j + 1
	case left:
		return i - 1, j
	}
	return 0, 0
}

// loneSurnameAt masks a surname standing alone when the word before it announces a person, directly or
// across one word of an organisation: «звонит Голубева», «глава поселения Волков», «сотрудника МФЦ Гончарову».
func (f *nameFinder) loneSurnameAt(text string, toks []token, i int) (s, e int) {
	t := &toks[i]
	if i == 0 || !(t.spaced || t.dashed) {
		return 0, 0
	}
	if n := i + 1; n < len(toks) && toks[n].spaced && (toks[n].initial || isCap(&toks[n]) && f.isFirst(text, &toks[n])) {
		return 0, 0 // the first name or initials after it take it in: «звонит Голубева Анна»
	}
	if f.isPersonContext(text, &toks[i-1]) {
		return i, i + 1
	}
	if k := i - 1; k >= 1 && t.spaced && (toks[k].spaced || toks[k].dashed) && isOrganisation(f.fold(text, &toks[k]), toks[k].lc) && f.isPersonContext(text, &toks[k-1]) {
		return i, i + 1
	}
	return 0, 0
}

// afterPlaceMarker reports whether a place marker stands up to four words before token s in the same
// clause: «улица Есенина», «ул. С. Есенина», «имени Героя Советского Союза Ивана Пушкарёва».
func (f *nameFinder) afterPlaceMarker(text string, toks []token, s int) bool {
	for k := s - 1; k >= 0 && k >= s-4; k-- {
		next := &toks[k+1]
		if next.brokenBy && !(strings.TrimSpace(text[toks[k].end:next.start]) == "." && !toks[k].initial) {
			return false
		}
		if !toks[k].initial && f.isMarker(text, &toks[k]) {
			return true
		}
		if next.brokenBy {
			return false // the dot ended a word that is no marker: a sentence ended
		}
	}
	return false
}

func isCap(t *token) bool { return !t.initial && t.lc != lowerCase }

// fold returns the token's folded word, computing it on first use: most words of a text are never
// looked up.
func (f *nameFinder) fold(text string, t *token) string {
	if t.fold == "" && !t.initial {
		t.fold = foldWord(text[t.start:t.end])
	}
	return t.fold
}

func (f *nameFinder) isFirst(text string, t *token) bool {
	return !t.initial && f.d.firstNames[f.fold(text, t)]
}

func (f *nameFinder) isMarker(text string, t *token) bool {
	if t.initial {
		return false
	}
	w := f.fold(text, t)
	if f.d.placeExact[w] {
		return true
	}
	for _, p := range f.d.placePrefixes {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	return false
}

func (f *nameFinder) isPersonContext(text string, t *token) bool {
	return !t.initial && f.d.personContexts[f.fold(text, t)]
}

// isSurname reports whether a word has a Russian surname's shape (-ов/-ев/-ин/-ын, -ский/-цкий, -енко,
// -ук/-юк, -ых/-их, -ян, -вич, in any case form) and is no first name or patronymic.
func (f *nameFinder) isSurname(text string, t *token) bool {
	if t.initial {
		return false
	}
	w := f.fold(text, t)
	if f.d.firstNames[w] || f.isPatronymic(text, t, false) {
		return false
	}
	if strings.IndexByte(w, '-') < 0 {
		return surnameShaped(w) && !f.districtAdjective(text, t, w)
	}
	for part := range strings.SplitSeq(w, "-") {
		if surnameShaped(part) {
			return !f.districtAdjective(text, t, w)
		}
	}
	return false
}

// districtAdjective reports whether a -ский word is the adjective of a place: «Сасовского района»,
// «Солотчинское шоссе».
func (f *nameFinder) districtAdjective(text string, t *token, w string) bool {
	if !endsWith(w, adjEndings, adjStems, 2) || t.end >= len(text) {
		return false
	}
	rest := strings.TrimLeft(text[t.end:], " ")
	for _, noun := range placeNouns {
		if strings.HasPrefix(rest, noun) {
			return true
		}
	}
	return false
}

// placeNouns follow the adjective of a district, a settlement or a road.
var placeNouns = []string{"район", "округ", "област", "поселени", "сельск", "городск", "муниципальн", "шоссе",
	"проспект", "улиц", "переул", "бульвар", "тракт"}

// isPatronymic reports whether a word is a patronymic in some case: -ович/-евич (and the few -ич ones:
// Ильич, Кузьмич), -овна/-евна (Ильинична, Никитична). strict refuses «-овной»/«-евной», which is as
// often an adjective («Основной», «Плачевной»), for a patronymic without a first name before it.
func (f *nameFinder) isPatronymic(text string, t *token, strict bool) bool {
	if t.initial {
		return false
	}
	if !mayBePatronymic(text[t.start:t.end]) {
		return false
	}
	w := f.fold(text, t)
	if endsWith(w, maleCaseEndings, malePatronymics, 2) || endsWith(w, maleCaseEndings, maleIchPatronymics, 0) {
		return true
	}
	endings := femaleCaseEndings
	if strict {
		endings = femaleCaseEndingsStrict
	}
	if endsWith(w, endings, femaleIchPatronymics, 0) {
		return true
	}
	for _, e := range endings {
		if base, ok := strings.CutSuffix(w, e); ok && endsWith(base, []string{""}, femalePatronymics, 2) && !adjectiveStems[base] {
			return true
		}
	}
	return false
}

var (
	malePatronymics         = []string{"ович", "евич"}
	maleIchPatronymics      = []string{"ильич", "кузьмич", "лукич", "фомич", "никитич", "саввич"}
	maleCaseEndings         = []string{"", "а", "у", "ем", "е"}
	femalePatronymics       = []string{"овн", "евн"}
	femaleIchPatronymics    = []string{"ильиничн", "никитичн", "кузьминичн", "фоминичн", "саввичн", "лукиничн"}
	femaleCaseEndings       = []string{"а", "ы", "е", "у", "ой"}
	femaleCaseEndingsStrict = []string{"а", "ы", "е", "у"}
	// adjectiveStems end like a female patronymic (-овн-/-евн-) but are adjectives.
	adjectiveStems = map[string]bool{"основн": true, "ровн": true, "неровн": true, "условн": true, "безусловн": true,
		"духовн": true, "верховн": true, "любовн": true, "виновн": true, "невиновн": true, "греховн": true,
		"душевн": true, "задушевн": true, "плачевн": true, "напевн": true, "дневн": true, "ежедневн": true,
		"повседневн": true, "гневн": true, "древн": true, "кровн": true, "церковн": true, "уголовн": true,
		"поголовн": true, "половн": true, "полновн": true}

	surnameStems    = []string{"ов", "ев", "ин", "ын"}
	surnameEndings  = []string{"", "а", "у", "ым", "е", "ой", "ою", "ых", "ыми", "ы"}
	adjStems        = []string{"ск", "цк"}
	adjEndings      = []string{"ий", "ой", "ого", "ому", "им", "ом", "ая", "ую", "ие", "их"}
	ukStems         = []string{"ук", "юк", "ян", "вич"}
	ukEndings       = []string{"", "а", "у", "ом", "е"}
	indeclinableEnd = []string{"енко", "ых", "их"}
)

// mayBePatronymic is the quick test before folding: every patronymic form holds «ич» or «вн» in lower
// case, or «ИЧ» or «ВН» in capitals.
// Russian letters are two bytes: the scan steps by two (a hyphenated word may lose step after its
// hyphen; no patronymic has one).
func mayBePatronymic(w string) bool {
	for i := 2; i+1 < len(w); i += 2 {
		switch w[i : i+2] {
		case "ч", "Ч":
			if p := w[i-2 : i]; p == "и" || p == "И" {
				return true
			}
		case "н", "Н":
			if p := w[i-2 : i]; p == "в" || p == "В" {
				return true
			}
		}
	}
	return false
}

// surnameSuffixes maps each surname ending (stem + case ending, folded) to itself; built once.
var surnameSuffixes = func() map[string]bool {
	m := map[string]bool{}
	for _, g := range []struct{ stems, endings []string }{
		{surnameStems, surnameEndings}, {adjStems, adjEndings}, {ukStems, ukEndings}, {indeclinableEnd, []string{""}},
	} {
		for _, st := range g.stems {
			for _, e := range g.endings {
				m[st+e] = true
			}
		}
	}
	return m
}()

// surnameTails holds the last four bytes (two folded letters) of every surname ending that long: a word
// whose last two letters are none of them has no surname ending, without five lookups to learn it.
var surnameTails = func() map[uint32]bool {
	m := map[uint32]bool{}
	for s := range surnameSuffixes {
		if len(s) >= 4 {
			m[tail4(s)] = true
		}
	}
	return m
}()

func tail4(w string) uint32 {
	n := len(w)
	return uint32(w[n-4])<<24 | uint32(w[n-3])<<16 | uint32(w[n-2])<<8 | uint32(w[n-1])
}

// maxSuffixRunes is the longest surname ending in letters (e.g. «евичем»).
const maxSuffixRunes = 6

// surnameShaped reports whether one part of a folded word ends like a surname, with at least two letters
// before the ending's stem.
func surnameShaped(w string) bool {
	n := utf8.RuneCountInString(w)
	if n < 4 {
		return false
	}
	// Folded Russian letters are two bytes each; a word with other letters is no Russian surname.
	if len(w) != 2*n || !surnameTails[tail4(w)] {
		return false
	}
	return hasSurnameEnding(w, n)
}

// hasSurnameEnding reports whether a folded word of n two-byte letters ends in a surname ending after at
// least two letters (surnameShaped's test once the word's shape and last two letters allow one).
func hasSurnameEnding(w string, n int) bool {
	for k := 2; k <= maxSuffixRunes && k <= n-2; k++ {
		if surnameSuffixes[w[len(w)-2*k:]] {
			return endsWith(w, surnameEndings, surnameStems, 2) || endsWith(w, adjEndings, adjStems, 2) ||
				endsWith(w, ukEndings, ukStems, 2) || endsWith(w, []string{""}, indeclinableEnd, 2)
		}
	}
	return false
}

// endsWith reports whether w is at least minPrefix letters, one of stems, then one of endings.
func endsWith(w string, endings, stems []string, minPrefix int) bool {
	for _, e := range endings {
		base, ok := strings.CutSuffix(w, e)
		if !ok {
			continue
		}
		for _, st := range stems {
			if rest, ok := strings.CutSuffix(base, st); ok && utf8.RuneCountInString(rest) >= minPrefix {
				return true
			}
		}
	}
	return false
}

// isOrganisation reports whether a word between «глава»/«сотрудник» and a surname names the organisation:
// an abbreviation in capitals (МФЦ, УК, ЖЭУ) or one of a few nouns.
func isOrganisation(w string, lc letterCase) bool {
	if lc == upperCase {
		return true
	}
	switch w {
	case "компании", "поселения", "района", "города", "администрации", "участка", "школы", "управы", "отдела", "ук", "жэу", "мфц":
		return true
	}
	return false
}
