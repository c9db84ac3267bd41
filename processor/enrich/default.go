package enrich

import (
	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/processor/classify"
	"github.com/teplokarta/teplokarta/processor/resolve"
	"github.com/teplokarta/teplokarta/processor/route"
)

// LoadParts loads the classifier (model + taxonomy rules) and the agency router; an empty path takes the
// copy embedded in the binary (the model trained on the «Наш дом» data, deploy/taxonomy.yaml,
// deploy/routing.yaml).
func LoadParts(modelPath, taxonomyPath, routingPath string) (*classify.Engine, *route.Router, error) {
	var m *classify.Model
	var err error
	if modelPath == "" {
		m, err = classify.DefaultModel()
	} else {
		m, err = classify.ReadFile(modelPath)
	}
	if err != nil {
		return nil, nil, err
	}
	tax, err := classify.LoadTaxonomy(taxonomyPath)
	if err != nil {
		return nil, nil, err
	}
	r, err := route.Load(routingPath)
	if err != nil {
		return nil, nil, err
	}
	return classify.NewEngine(m, tax), r, nil
}

// Load builds the stage from those files and the default region's resolver, with a prediction cache.
func Load(modelPath, taxonomyPath, routingPath string) (*Stage, error) {
	c, r, err := LoadParts(modelPath, taxonomyPath, routingPath)
	if err != nil {
		return nil, err
	}
	return &Stage{Classifier: NewCachedClassifier(c, DefaultCacheEntries), Resolver: resolve.New(geo.Default()), Router: r}, nil
}
