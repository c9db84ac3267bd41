package enrich

import (
	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/processor/classify"
	"github.com/teplokarta/teplokarta/processor/resolve"
	"github.com/teplokarta/teplokarta/processor/route"
)

// Default is the stage with what the binary ships: the classifier model trained on the «Наш дом» data,
// the taxonomy rules, the routing table and the default region's resolver.
func Default() (*Stage, error) {
	m, err := classify.DefaultModel()
	if err != nil {
		return nil, err
	}
	tax, err := classify.LoadTaxonomy("")
	if err != nil {
		return nil, err
	}
	r, err := route.Load("")
	if err != nil {
		return nil, err
	}
	return &Stage{Classifier: classify.NewEngine(m, tax), Resolver: resolve.New(geo.Default()), Router: r}, nil
}
