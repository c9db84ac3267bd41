package resolve

import (
	"fmt"
	"strings"
)

// kind says what a pattern names, which decides the context it needs and the evidence it gives.
type kind uint8

const (
	kindTown     kind = iota + 1 // a settlement: the municipality's centre or another town or village
	kindDistrict                 // a district adjective: «Шиловский», or a Ryazan city district (flag noBare)
	kindPlace                    // a place inside the capital: micro-district, named street
	kindStreet                   // a capital street name that needs a street word next to it
)

// flags narrow when a pattern counts.
type flags uint8

const (
	flagCommon flags = 1 << iota // also a common word: needs a capital letter mid-sentence or a marker
	flagMarked                   // counts only after a settlement marker
	flagNoBare                   // a district adjective that counts only followed by «район»
)

// pattern is one name of one municipality, one or more words.
type pattern struct {
	base  string                // the first word as written (nominative), normalized
	rest  []map[string]struct{} // forms of the words after the first
	mun   int
	kind  kind
	flags flags
}

// context word classes: words that are no place themselves but tell what their neighbour is.
type ctxClass uint8

const (
	ctxMarker   ctxClass = 1 << iota // г., город, пос., р.п., село, д. …: the next word is a settlement
	ctxDistrict                      // район, р-н, муниципального, округ: the previous adjective is a district
	ctxStreet                        // улица, проспект, шоссе …: the neighbour is a street, not a town
	ctxRegion                        // область: the previous adjective is the region («Рязанской области»)
)

const (
	markerWords = "г гор город города городе городу городом гп п пос поселок поселка поселке поселку поселком " +
		"пгт рп р с село села селе селу селом д дер деревня деревни деревне деревню деревней мкр мкрн " +
		"микрорайон микрорайона микрорайоне микрорайону"
	districtWords = "район района районе району районом районы районов районах районам р-н р-на р-не р-ну рн " +
		"округ округа округе округу округом мо мр"
	streetWords = "ул улица улицы улице улицу улицей улиц улицам пр пр-т пр-кт просп проспект проспекта проспекте " +
		"проспекту проспектом шоссе ш пер переулок переулка переулке переулку переулком проезд проезда проезде " +
		"проезду пр-д бульвар бульвара бульваре бульвару б-р площадь площади пл тупик набережная набережной " +
		"наб тракт аллея аллее аллеи"
	regionWords = "область области областью обл"
)

// lexicon is the immutable index the text matcher walks: every form of every name's first word leads to
// the patterns starting with it.
type lexicon struct {
	first   map[string][]int32
	pats    []pattern
	ctx     map[string]ctxClass
	capital int // municipality index of the region's capital, -1 if none
}

func newLexicon() *lexicon {
	l := &lexicon{first: map[string][]int32{}, ctx: map[string]ctxClass{}, capital: -1}
	for cls, words := range map[ctxClass]string{ctxMarker: markerWords, ctxDistrict: districtWords,
		ctxStreet: streetWords, ctxRegion: regionWords} {
		for _, w := range strings.Fields(words) {
			l.ctx[w] |= cls
		}
	}
	return l
}

// context classifies a neighbour word. Open classes (муниципального, районная, областной) go by prefix.
func (l *lexicon) context(w []byte) ctxClass {
	c := l.ctx[string(w)]
	switch {
	case hasPrefix(w, "муниципальн"), hasPrefix(w, "район"):
		c |= ctxDistrict
	case hasPrefix(w, "област"):
		c |= ctxRegion
	}
	return c
}

// hasPrefix compares without converting w to a string, which would allocate for long words.
func hasPrefix(w []byte, p string) bool { return len(w) >= len(p) && string(w[:len(p)]) == p }

// add registers a name ("Шиловский", "Московское шоссе", "Павелец=павельца,павельце") for municipality
// mun. The syntax is the data files': Word=form,form adds forms; Word! keeps the word fixed.
func (l *lexicon) add(name string, mun int, k kind, f flags, mode inflectMode) error {
	words := strings.Fields(name)
	if len(words) == 0 {
		return fmt.Errorf("resolve: empty name")
	}
	p := pattern{mun: mun, kind: k, flags: f}
	var firstForms []string
	for i, w := range words {
		forms, err := wordForms(w, mode)
		if err != nil {
			return fmt.Errorf("resolve: name %q: %w", name, err)
		}
		if i == 0 {
			firstForms, p.base = forms, forms[0]
			continue
		}
		set := make(map[string]struct{}, len(forms))
		for _, f := range forms {
			set[f] = struct{}{}
		}
		p.rest = append(p.rest, set)
	}
	id := int32(len(l.pats))
	l.pats = append(l.pats, p)
	for _, f := range firstForms {
		l.first[f] = append(l.first[f], id)
	}
	return nil
}

// has reports whether a one-word name of this kind is already known, so a data file's flagged entry
// («Сапожок ; common») takes precedence over the gazetteer's plain one.
func (l *lexicon) has(name string, k kind) bool {
	for _, id := range l.first[normalize(name)] {
		if l.pats[id].kind == k && len(l.pats[id].rest) == 0 {
			return true
		}
	}
	return false
}

func wordForms(w string, mode inflectMode) ([]string, error) {
	base, extra, _ := strings.Cut(w, "=")
	if strings.HasSuffix(base, "!") {
		base = strings.TrimSuffix(base, "!")
		mode = inflectNone
	}
	norm := normalize(base)
	if norm == "" || strings.ContainsRune(norm, ' ') {
		return nil, fmt.Errorf("bad word %q", w)
	}
	forms := inflect(norm, mode)
	if extra != "" {
		for _, e := range strings.Split(extra, ",") {
			if e = normalize(e); e != "" {
				forms = append(forms, e)
			}
		}
	}
	return dedup(forms), nil
}
