package classify

import (
	"bytes"
	_ "embed"
	"fmt"
)

// defaultModel is the shipped model, trained from the «Наш дом» Ryazan data (see docs/classification.md).
//
//go:embed model/nashdom-ryazan.model.gz
var defaultModel []byte

// DefaultModel loads the embedded model. It is decoded once per call; keep the result.
func DefaultModel() (*Model, error) {
	m, err := Read(bytes.NewReader(defaultModel))
	if err != nil {
		return nil, fmt.Errorf("embedded model: %w", err)
	}
	return m, nil
}

// RuleConf is the confidence reported for a taxonomy rule's decision: curators' rules are trusted, but
// below certainty so downstream can still tell them from confirmed labels.
const RuleConf = 0.95

// Engine is the Classifier the pipeline uses: taxonomy rules first, the model for everything else.
type Engine struct {
	model *Model
	tax   *Taxonomy
}

// NewEngine combines a model with a taxonomy (nil: no rules).
func NewEngine(m *Model, t *Taxonomy) *Engine { return &Engine{model: m, tax: t} }

var _ Classifier = (*Engine)(nil)
var _ Classifier = (*Model)(nil)

// Classify predicts the labels of text. When a taxonomy rule matches, its category, theme and agency win
// with RuleConf and the model's answers follow in the top-3.
func (e *Engine) Classify(text string) Prediction {
	p := e.model.Classify(text)
	m, ok := e.tax.Match(text)
	if !ok {
		return p
	}
	p.Rule = m.Rule
	p.Category = Label{Name: m.Category, Conf: RuleConf}
	p.Theme = Label{Name: m.Theme, Conf: RuleConf}
	p.Top3.Category = prepend(p.Category, p.Top3.Category)
	p.Top3.Theme = prepend(p.Theme, p.Top3.Theme)
	if m.Executor != "" {
		p.Executor = Label{Name: m.Executor, Conf: RuleConf}
		p.Top3.Executor = prepend(p.Executor, p.Top3.Executor)
	}
	return p
}

// prepend puts l first, drops its duplicate, keeps three, and scales the model's confidences into the
// remaining probability mass so the list still sums to at most 1.
func prepend(l Label, rest []Label) []Label {
	out := make([]Label, 0, 3)
	out = append(out, l)
	for _, r := range rest {
		if len(out) == 3 {
			break
		}
		if r.Name != l.Name {
			r.Conf *= 1 - l.Conf
			out = append(out, r)
		}
	}
	return out
}
