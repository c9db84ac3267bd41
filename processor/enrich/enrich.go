// Package enrich is the processor's "what and where" stage: it classifies the text (category, theme,
// executor), resolves the municipality and routes the appeal to an agency. What a source states itself
// (the portal's curator-set category, ПОС's OKTMO, Наш дом's executor) wins over what is guessed.
package enrich

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/classify"
)

// Classifier predicts labels of a text (processor/classify).
type Classifier interface {
	Classify(text string) classify.Prediction
}

// Resolver finds the municipality of an appeal (processor/resolve).
type Resolver interface {
	Resolve(a *model.Appeal) (geo.Municipality, string, bool)
}

// Router picks the responsible agency from the prediction and the place (processor/route).
type Router interface {
	Route(p classify.Prediction, m geo.Municipality, resolved bool) (string, float32)
}

// Stage implements pipeline.Enricher. Any part may be nil: that step then uses hints only.
type Stage struct {
	Classifier Classifier
	Resolver   Resolver
	Router     Router
}

// Register adds the metrics of the stage's parts that have any (the prediction cache) to reg; nil reg
// registers nothing.
func (s *Stage) Register(reg prometheus.Registerer) error {
	if r, ok := s.Classifier.(interface {
		Register(prometheus.Registerer) error
	}); ok {
		return r.Register(reg)
	}
	return nil
}

// Enrich implements pipeline.Enricher.
func (s *Stage) Enrich(a *model.Appeal) {
	var pred classify.Prediction
	// A source that states category, theme and agency (the portal's curators) leaves the model nothing to
	// decide: its prediction would be overridden below, and the agency resolves the place.
	stated := a.Hints.Category != "" && a.Hints.Theme != "" && a.Hints.Agency != ""
	if s.Classifier != nil && !stated {
		pred = s.Classifier.Classify(a.Text)
	}
	a.Category, a.CategoryConf = pred.Category.Name, pred.Category.Conf
	a.Theme, a.ThemeConf = pred.Theme.Name, pred.Theme.Conf
	if a.Hints.Category != "" {
		a.Category, a.CategoryConf = a.Hints.Category, 1
		if a.Hints.Theme != "" {
			a.Theme, a.ThemeConf = a.Hints.Theme, 1
		}
	}

	var mun geo.Municipality
	ok := false
	if s.Resolver != nil {
		mun, _, ok = s.Resolver.Resolve(a)
		if !ok && a.Hints.Agency == "" && pred.Executor.Name != "" {
			// A territorial executor predicted from the text ("Администрация Шиловского района") names the place.
			a.Agency = pred.Executor.Name
			mun, _, ok = s.Resolver.Resolve(a)
			a.Agency = ""
		}
	}
	if ok {
		a.OKTMO, a.Municipality = mun.OKTMO, mun.DisplayName()
	} else {
		a.OKTMO, a.Municipality = "", model.Unresolved
	}

	switch {
	case a.Hints.Agency != "":
		a.Agency, a.AgencyConf = a.Hints.Agency, 1
	case s.Router != nil:
		pred.Category = classify.Label{Name: a.Category, Conf: a.CategoryConf}
		a.Agency, a.AgencyConf = s.Router.Route(pred, mun, ok)
	default:
		a.Agency, a.AgencyConf = pred.Executor.Name, pred.Executor.Conf
	}
	if a.Category == "" {
		a.Category = model.Unresolved
	}
}
