// Package pii masks personal data in appeal texts before anything is stored for analytics or shown to an
// analyst: phone numbers, e-mail addresses, the numbers of passports, СНИЛС and bank cards, and people's
// names (ФИО) written in the text. Sources that carry names in fields (112 callers) hash them in the
// parser instead. The processor masks before storage and the Grafana plugin masks again with the same
// Masker before a text reaches a screen.
package pii

import (
	"regexp"
	"strings"
)

// Masker replaces personal data with fixed tokens. Safe for concurrent use.
type Masker struct {
	rules []rule
	names *nameFinder
}

// A rule runs only on texts that could match it: most appeals hold a house number or two and no
// personal data, and six regular expressions over every text were a fifth of the processor's CPU.
type rule struct {
	re        *regexp.Regexp
	with      string
	minDigits int    // ASCII digits any match holds
	needs     string // a byte any match holds ("" = none)
}

// New builds the masker. Order matters: longer, more specific patterns run first.
func New() *Masker {
	return &Masker{rules: []rule{
		{regexp.MustCompile(`[\p{L}0-9._%+\-]+@[\p{L}0-9.\-]+\.[\p{L}]{2,}`), "[email]", 0, "@"},
		{regexp.MustCompile(`\b\d{4}[ \-]?\d{4}[ \-]?\d{4}[ \-]?\d{4}\b`), "[карта]", 16, ""},
		{regexp.MustCompile(`\b\d{3}-\d{3}-\d{3}[ \-]\d{2}\b`), "[снилс]", 11, "-"},
		{regexp.MustCompile(`(?:\+7|\b8)[\s\-(]*\d{3}[\s\-)]*\d{3}[\s\-]*\d{2}[\s\-]*\d{2}\b`), "[телефон]", 11, ""},
		{regexp.MustCompile(`\b\d{2}\s?\d{2}\s?№?\s?\d{6}\b`), "[документ]", 10, ""},
		{regexp.MustCompile(`\b\d{2,3}-\d{2}-\d{2}\b`), "[телефон]", 6, "-"}, // local 6- and 7-digit numbers
	}, names: &nameFinder{d: mustDictionaries()}}
}

// Mask returns text with personal data replaced.
func (m *Masker) Mask(text string) string {
	// Replacements only remove digits, so the count taken once stays an upper bound for later rules.
	digits := countDigits(text)
	for _, r := range m.rules {
		if digits < r.minDigits || (r.needs != "" && !strings.Contains(text, r.needs)) {
			continue
		}
		text = r.re.ReplaceAllString(text, r.with)
	}
	return m.maskNames(text)
}

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i]-'0' <= 9 {
			n++
		}
	}
	return n
}
