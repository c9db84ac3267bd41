package classify

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// defaultTaxonomy is a copy of deploy/taxonomy.yaml (a test keeps them identical): the binary works
// without the deploy directory, and curators override it with --taxonomy.
//
//go:embed taxonomy/default.yaml
var defaultTaxonomy []byte

// DefaultTaxonomyYAML returns the embedded taxonomy file.
func DefaultTaxonomyYAML() []byte { return bytes.Clone(defaultTaxonomy) }

// ErrBadTaxonomy marks a taxonomy file that cannot be used; the message names the offending entry.
var ErrBadTaxonomy = errors.New("classify: bad taxonomy")

// TaxonomyFile is the YAML document curators edit.
type TaxonomyFile struct {
	Version    int           `yaml:"version"`
	Categories []TaxCategory `yaml:"categories"`
}

// TaxCategory is a category with its keyword rules, default theme and agency, and optional sub-items.
// A category without rules only documents one of the portal's own categories.
type TaxCategory struct {
	Name     string       `yaml:"name"`
	Executor string       `yaml:"executor"`
	Theme    string       `yaml:"theme"` // theme when no sub-item matches; default: the category name
	Rules    []TaxRule    `yaml:"rules"`
	Themes   []TaxSubItem `yaml:"themes"`
}

// TaxSubItem is a theme inside a category, chosen when one of its rules matches.
type TaxSubItem struct {
	Name     string    `yaml:"name"`
	Executor string    `yaml:"executor"` // default: the category's
	Rules    []TaxRule `yaml:"rules"`
}

// TaxRule matches a text. Any: at least one of these stems/phrases occurs (a stem matches words starting
// with it, a stem ending in "!" only the word itself; a phrase of several stems matches consecutive
// words). Regex: a Go regular expression
// matches the normalized text (lowercase, ё→е, words separated by single spaces). All conditions
// given must hold; Not: none of these stems occurs.
type TaxRule struct {
	Any   []string `yaml:"any"`
	All   []string `yaml:"all"`
	Regex string   `yaml:"regex"`
	Not   []string `yaml:"not"`
}

// Taxonomy is a compiled taxonomy, safe for concurrent use.
type Taxonomy struct {
	cats    []taxCat
	phrases []phrase // every distinct stem phrase of every rule
	// byPrefix: the first two runes of a phrase's first stem (the second 0 for a one-rune stem) → the
	// phrases starting so. Keyed by one rune, a word met every phrase of its letter («в», «п»…).
	byPrefix  map[uint64][]int32 // prefixKey
	shortStem bool               // some phrase starts with a one-rune stem: words are looked up under (first, 0) too
	regex     bool               // some rule has a regex, so Match must build the normalized string
	pool      sync.Pool          // *taxScratch
}

// phrase is a sequence of stems matched against consecutive words; an exact stem must equal the word.
type phrase struct {
	stems [][]rune
	exact []bool
}

type taxScratch struct {
	runes []rune
	words [][2]int // [start, end) into runes
	found []bool   // per phrase
}

type taxCat struct {
	name, theme, executor string
	rules                 []rule
	subs                  []taxSub
}

type taxSub struct {
	name, executor string
	rules          []rule
}

type rule struct {
	any, all, not []int32 // phrase indices
	re            *regexp.Regexp
	text          string // for Prediction.Rule
}

// ParseTaxonomy compiles a taxonomy YAML document.
func ParseTaxonomy(data []byte) (*Taxonomy, error) {
	var f TaxonomyFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadTaxonomy, err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("%w: version %d: want 1", ErrBadTaxonomy, f.Version)
	}
	t := &Taxonomy{byPrefix: map[uint64][]int32{}}
	seen := map[string]bool{}
	for i, c := range f.Categories {
		where := fmt.Sprintf("categories[%d] %q", i, c.Name)
		if strings.TrimSpace(c.Name) == "" {
			return nil, fmt.Errorf("%w: %s: empty name", ErrBadTaxonomy, where)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("%w: %s: duplicate category", ErrBadTaxonomy, where)
		}
		seen[c.Name] = true
		tc := taxCat{name: c.Name, theme: c.Theme, executor: c.Executor}
		if tc.theme == "" {
			tc.theme = c.Name
		}
		var err error
		if tc.rules, err = t.compileRules(c.Rules, where); err != nil {
			return nil, err
		}
		if len(c.Themes) > 0 && len(c.Rules) == 0 {
			return nil, fmt.Errorf("%w: %s: sub-items need category rules to be reached", ErrBadTaxonomy, where)
		}
		for j, s := range c.Themes {
			sw := fmt.Sprintf("%s themes[%d] %q", where, j, s.Name)
			if strings.TrimSpace(s.Name) == "" {
				return nil, fmt.Errorf("%w: %s: empty name", ErrBadTaxonomy, sw)
			}
			ts := taxSub{name: s.Name, executor: s.Executor}
			if ts.executor == "" {
				ts.executor = c.Executor
			}
			if ts.rules, err = t.compileRules(s.Rules, sw); err != nil {
				return nil, err
			}
			if len(ts.rules) == 0 {
				return nil, fmt.Errorf("%w: %s: a sub-item needs rules", ErrBadTaxonomy, sw)
			}
			tc.subs = append(tc.subs, ts)
		}
		if len(tc.rules) > 0 && tc.executor == "" {
			return nil, fmt.Errorf("%w: %s: a category with rules needs an executor", ErrBadTaxonomy, where)
		}
		t.cats = append(t.cats, tc)
	}
	return t, nil
}

// LoadTaxonomy reads a taxonomy file; an empty path gives the embedded default.
func LoadTaxonomy(path string) (*Taxonomy, error) {
	if path == "" {
		return ParseTaxonomy(defaultTaxonomy)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("classify: taxonomy: %w", err)
	}
	t, err := ParseTaxonomy(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func (t *Taxonomy) compileRules(rs []TaxRule, where string) ([]rule, error) {
	var out []rule
	for k, r := range rs {
		rw := fmt.Sprintf("%s rules[%d]", where, k)
		cr := rule{any: t.addPhrases(r.Any), all: t.addPhrases(r.All), not: t.addPhrases(r.Not)}
		if r.Regex != "" {
			re, err := regexp.Compile(r.Regex)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrBadTaxonomy, rw, err)
			}
			cr.re = re
			t.regex = true
		}
		if len(cr.any) == 0 && len(cr.all) == 0 && cr.re == nil {
			return nil, fmt.Errorf("%w: %s: needs any, all or regex", ErrBadTaxonomy, rw)
		}
		var desc []string
		if len(r.Any) > 0 {
			desc = append(desc, "any "+strings.Join(r.Any, "|"))
		}
		if len(r.All) > 0 {
			desc = append(desc, "all "+strings.Join(r.All, "&"))
		}
		if r.Regex != "" {
			desc = append(desc, "regex "+r.Regex)
		}
		cr.text = strings.Join(desc, ", ")
		out = append(out, cr)
	}
	return out, nil
}

// addPhrases registers patterns and returns their indices. A stem ending in "!" must equal the word.
func (t *Taxonomy) addPhrases(ss []string) []int32 {
	var out []int32
	for _, s := range ss {
		var p phrase
		for _, f := range strings.Fields(s) {
			exact := strings.HasSuffix(f, "!")
			for _, w := range strings.Fields(normalizeText(strings.TrimSuffix(f, "!"))) {
				p.stems = append(p.stems, []rune(w))
				p.exact = append(p.exact, false)
			}
			if exact && len(p.exact) > 0 {
				p.exact[len(p.exact)-1] = true
			}
		}
		if len(p.stems) == 0 {
			continue
		}
		id := int32(len(t.phrases))
		t.phrases = append(t.phrases, p)
		var second rune
		if len(p.stems[0]) > 1 {
			second = p.stems[0][1]
		} else {
			t.shortStem = true
		}
		key := prefixKey(p.stems[0][0], second)
		t.byPrefix[key] = append(t.byPrefix[key], id)
		out = append(out, id)
	}
	return out
}

// normalizeText lowercases, folds ё and keeps words separated by single spaces: the text rules see.
func normalizeText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for _, r := range s {
		if n := normRune(r); n >= 0 {
			b.WriteRune(n)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSuffix(b.String(), " ")
}

func (r *rule) match(found []bool, norm string) bool {
	if len(r.any) > 0 && !anyFound(found, r.any) {
		return false
	}
	for _, p := range r.all {
		if !found[p] {
			return false
		}
	}
	if r.re != nil && !r.re.MatchString(norm) {
		return false
	}
	return !anyFound(found, r.not)
}

func anyFound(found []bool, ps []int32) bool {
	for _, p := range ps {
		if found[p] {
			return true
		}
	}
	return false
}

// scan marks in sc.found every phrase that occurs in text, in one pass over its words.
func (t *Taxonomy) scan(text string, sc *taxScratch) {
	sc.runes, sc.words = sc.runes[:0], sc.words[:0]
	start := 0
	for _, r := range text {
		if n := normRune(r); n >= 0 {
			sc.runes = append(sc.runes, n)
			continue
		}
		if len(sc.runes) > start {
			sc.words = append(sc.words, [2]int{start, len(sc.runes)})
		}
		start = len(sc.runes)
	}
	if len(sc.runes) > start {
		sc.words = append(sc.words, [2]int{start, len(sc.runes)})
	}
	if cap(sc.found) < len(t.phrases) {
		sc.found = make([]bool, len(t.phrases))
	}
	sc.found = sc.found[:len(t.phrases)]
	clear(sc.found)
	for i, w := range sc.words {
		first := sc.runes[w[0]]
		if w[1]-w[0] > 1 {
			t.findAt(t.byPrefix[prefixKey(first, sc.runes[w[0]+1])], sc, i)
		}
		if t.shortStem || w[1]-w[0] == 1 {
			t.findAt(t.byPrefix[prefixKey(first, 0)], sc, i)
		}
	}
}

// prefixKey packs a stem's first two runes (the second 0 for a one-rune stem) into a map key that Go's
// maps hash by their 64-bit fast path, which a [2]rune key does not take.
func prefixKey(first, second rune) uint64 { return uint64(uint32(first))<<32 | uint64(uint32(second)) }

// findAt marks the candidates that match at word i.
func (t *Taxonomy) findAt(cands []int32, sc *taxScratch, i int) {
	for _, p := range cands {
		if !sc.found[p] && t.phraseAt(&t.phrases[p], sc, i) {
			sc.found[p] = true
		}
	}
}

func (t *Taxonomy) phraseAt(p *phrase, sc *taxScratch, i int) bool {
	if i+len(p.stems) > len(sc.words) {
		return false
	}
	for j, stem := range p.stems {
		w := sc.words[i+j]
		word := sc.runes[w[0]:w[1]]
		if len(word) < len(stem) || (p.exact[j] && len(word) != len(stem)) || !slices.Equal(word[:len(stem)], stem) {
			return false
		}
	}
	return true
}

// Match is a taxonomy decision.
type Match struct {
	Category, Theme, Executor, Rule string
}

// Match returns the first category (in file order) whose rule matches text, with the first matching
// sub-item's theme and agency. File order is the precedence curators control.
func (t *Taxonomy) Match(text string) (Match, bool) {
	if t == nil || len(t.cats) == 0 {
		return Match{}, false
	}
	sc, _ := t.pool.Get().(*taxScratch)
	if sc == nil {
		sc = &taxScratch{}
	}
	defer t.pool.Put(sc)
	t.scan(text, sc)
	var norm string
	if t.regex {
		norm = normalizeText(text)
	}
	for _, c := range t.cats {
		for _, r := range c.rules {
			if !r.match(sc.found, norm) {
				continue
			}
			m := Match{Category: c.name, Theme: c.theme, Executor: c.executor, Rule: c.name + ": " + r.text}
			for _, s := range c.subs {
				for _, sr := range s.rules {
					if sr.match(sc.found, norm) {
						m.Theme, m.Executor, m.Rule = s.name, s.executor, s.name+": "+sr.text
						return m, true
					}
				}
			}
			return m, true
		}
	}
	return Match{}, false
}

// Categories lists the taxonomy's category names in file order.
func (t *Taxonomy) Categories() []string {
	var out []string
	for _, c := range t.cats {
		out = append(out, c.name)
	}
	return out
}
