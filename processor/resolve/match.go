package resolve

import "bytes"

// class ranks the evidence a mention gives; the strongest class present in a text decides.
type class uint8

const (
	classNone     class = iota
	classPlace          // a street or micro-district of the capital («ул. Зубковой», «Канищево»)
	className           // a settlement name or district adjective on its own («в Шилово», «Сасовского»)
	classExplicit       // a settlement with its marker («г. Сасово», «р.п. Тума», «село Ижевское»)
	classDistrict       // a district spelled out («Шиловского района», «Префектура Советского района»)
)

// evidence keeps, per class, the first municipality other than the capital and whether the capital was
// mentioned. The capital yields to any other municipality of the same class because appeals from the
// districts name it as a destination («маршрутка до Рязани», «строят в Рязани, а не у нас») — unless the
// text also names the capital's streets or micro-districts, which only its residents do.
type evidence struct {
	first   [classDistrict + 1]int
	capital [classDistrict + 1]bool
}

func (e *evidence) add(c class, mun, capital int) {
	if mun == capital {
		e.capital[c] = true
	} else if e.first[c] < 0 {
		e.first[c] = mun
	}
}

func (e *evidence) result(min class, capital int) (int, bool) {
	for c := classDistrict; c >= min && c > classNone; c-- {
		if e.first[c] >= 0 && !(e.capital[c] && e.capital[classPlace] && capital >= 0) {
			return e.first[c], true
		}
		if e.capital[c] && capital >= 0 {
			return capital, true
		}
	}
	return -1, false
}

// maxStackText is the text length matched without heap allocation; longer texts still work.
const maxStackText = 2048

// match finds the municipality a text speaks of, accepting evidence of class min or stronger.
func (r *Resolver) match(text string, min class) (int, bool) {
	var nbuf [maxStackText]byte
	var tbuf [maxStackText / 6]token
	norm, toks := tokenize(text, nbuf[:0], tbuf[:0])
	ev := evidence{first: [...]int{-1, -1, -1, -1, -1}}
	for i := 0; i < len(toks); {
		n, c, mun := r.lex.bestAt(norm, toks, i)
		if c != classNone {
			ev.add(c, mun, r.capital)
		}
		i += n
	}
	return ev.result(min, r.capital)
}

func word(norm []byte, t token) []byte { return norm[t.start:t.end] }

// bestAt returns the strongest pattern starting at token i: how many tokens it spans, its class and
// municipality. Unmatched positions span one token with classNone.
func (l *lexicon) bestAt(norm []byte, toks []token, i int) (n int, c class, mun int) {
	w := word(norm, toks[i])
	cands := l.first[string(w)]
	if len(cands) == 0 {
		if bytes.IndexByte(w, '-') > 0 {
			c, mun = l.hyphenParts(norm, toks, i, w)
			return 1, c, mun
		}
		return 1, classNone, -1
	}
	n, mun = 1, -1
	for _, id := range cands {
		p := &l.pats[id]
		end := i + 1 + len(p.rest)
		if end > len(toks) || !restMatches(p, norm, toks[i+1:end]) {
			continue
		}
		pc := l.classify(p, norm, toks, i, end)
		if pc > c || (pc == c && pc != classNone && end-i > n) {
			n, c, mun = end-i, pc, p.mun
		}
	}
	return n, c, mun
}

// hyphenParts reads an unknown hyphenated word as a town with a number, a station: «Рязань-1». Other
// joined words are routes («Рязань-Москва») and say nothing about the appeal's place.
func (l *lexicon) hyphenParts(norm []byte, toks []token, i int, w []byte) (class, int) {
	mun, c := -1, classNone
	for len(w) > 0 {
		part := w
		if j := bytes.IndexByte(w, '-'); j >= 0 {
			part, w = w[:j], w[j+1:]
		} else {
			w = nil
		}
		if isDigits(part) {
			continue
		}
		if mun >= 0 {
			return classNone, -1
		}
		for _, id := range l.first[string(part)] {
			p := &l.pats[id]
			if p.kind == kindTown && len(p.rest) == 0 && p.flags == 0 {
				mun, c = p.mun, l.classify(p, norm, toks, i, i+1)
				break
			}
		}
		if mun < 0 {
			return classNone, -1
		}
	}
	return c, mun
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

func routeEnd(toks []token, i, end int) bool {
	return toks[i].dash || end < len(toks) && toks[end].dash
}

// direction tells a trip to the capital («в Рязань», «до Рязани», «на Рязань») from a place in it
// («в Рязани»): appeals from the districts mention the capital as where they have to travel.
func (l *lexicon) direction(norm []byte, toks []token, i int, p *pattern) bool {
	if i == 0 {
		return false
	}
	switch string(word(norm, toks[i-1])) {
	case "до":
		return true
	case "в", "во", "на":
		return string(word(norm, toks[i])) == p.base
	}
	return false
}

func restMatches(p *pattern, norm []byte, toks []token) bool {
	for k, set := range p.rest {
		if _, ok := set[string(word(norm, toks[k]))]; !ok {
			return false
		}
	}
	return true
}

// classify applies the context rules to a pattern found at toks[i:end].
func (l *lexicon) classify(p *pattern, norm []byte, toks []token, i, end int) class {
	var prev, next ctxClass
	if i > 0 {
		prev = l.context(word(norm, toks[i-1]))
	}
	if end < len(toks) && !toks[end].punct {
		next = l.context(word(norm, toks[end])) // «Шиловского района», but not «Спас-Клепики, ул. …»
	}
	street := (prev|next)&ctxStreet != 0
	switch p.kind {
	case kindTown:
		switch {
		case street:
			return classNone // «улица Рязанская», «Касимовское шоссе»: a street named after a town
		case routeEnd(toks, i, end):
			return classNone // a route's end: «маршрутка Рязань - Александро-Невский»
		case p.mun == l.capital && l.direction(norm, toks, i, p):
			return classNone
		case prev&ctxMarker != 0:
			return classExplicit
		case p.flags&flagMarked != 0:
			return classNone
		case p.flags&flagCommon != 0 && !(toks[i].upper && !toks[i].sentence):
			return classNone
		}
		return className
	case kindDistrict:
		switch {
		case next&ctxDistrict != 0:
			return classDistrict
		case street, next&ctxRegion != 0, p.flags&flagNoBare != 0, routeEnd(toks, i, end):
			return classNone
		}
		return className
	case kindPlace:
		if p.flags&flagMarked != 0 && prev&ctxMarker == 0 {
			return classNone
		}
		return classPlace
	case kindStreet:
		if street {
			return classPlace
		}
	}
	return classNone
}
