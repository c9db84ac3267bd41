// Package pii masks personal data in appeal texts before anything is stored for analytics: phone
// numbers, e-mail addresses, and the numbers of passports, СНИЛС and bank cards. Names are not guessed:
// sources that carry names in fields (112 callers) hash them in the parser instead.
package pii

import "regexp"

// Masker replaces personal data with fixed tokens. Safe for concurrent use.
type Masker struct {
	rules []rule
}

type rule struct {
	re   *regexp.Regexp
	with string
}

// New builds the masker. Order matters: longer, more specific patterns run first.
func New() *Masker {
	return &Masker{rules: []rule{
		{regexp.MustCompile(`[\p{L}0-9._%+\-]+@[\p{L}0-9.\-]+\.[\p{L}]{2,}`), "[email]"},
		{regexp.MustCompile(`\b\d{4}[ \-]?\d{4}[ \-]?\d{4}[ \-]?\d{4}\b`), "[карта]"},
		{regexp.MustCompile(`\b\d{3}-\d{3}-\d{3}[ \-]\d{2}\b`), "[снилс]"},
		{regexp.MustCompile(`(?:\+7|\b8)[\s\-(]*\d{3}[\s\-)]*\d{3}[\s\-]*\d{2}[\s\-]*\d{2}\b`), "[телефон]"},
		{regexp.MustCompile(`\b\d{2}\s?\d{2}\s?№?\s?\d{6}\b`), "[документ]"},
		{regexp.MustCompile(`\b\d{2,3}-\d{2}-\d{2}\b`), "[телефон]"}, // local 6- and 7-digit numbers
	}}
}

// Mask returns text with personal data replaced.
func (m *Masker) Mask(text string) string {
	for _, r := range m.rules {
		text = r.re.ReplaceAllString(text, r.with)
	}
	return text
}
