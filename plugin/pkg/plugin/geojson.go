package plugin

import (
	"encoding/json"
	"fmt"
	"os"
)

// Feature and FeatureCollection are the GeoJSON (RFC 7946) shapes Geomap's GeoJSON layer reads.
type Feature struct {
	Type       string          `json:"type"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties map[string]any  `json:"properties"`
}

type FeatureCollection struct {
	Type     string    `json:"type"`
	Features []Feature `json:"features"`
}

// geoJSON serves the gazetteer as points and, when the operator configured a boundary file, its polygons
// with the gazetteer's properties merged in by OKTMO (the key Geomap's lookup joins frames on). layer
// narrows the answer to "points" or "polygons".
func (d *Datasource) geoJSON(layer string) (FeatureCollection, error) {
	fc := FeatureCollection{Type: "FeatureCollection", Features: []Feature{}}
	muns := d.municipalities(Filters{})
	props := map[string]map[string]any{}
	for _, m := range muns {
		p := map[string]any{
			"oktmo": m.OKTMO, "name": m.DisplayName(), "kind": m.Kind, "lat": m.Lat, "lon": m.Lon, "population": nil,
		}
		if m.Population > 0 {
			p["population"] = m.Population
		}
		props[m.OKTMO] = p
		if layer == "" || layer == "points" {
			geom, _ := json.Marshal(map[string]any{"type": "Point", "coordinates": []float64{m.Lon, m.Lat}})
			fc.Features = append(fc.Features, Feature{Type: "Feature", Geometry: geom, Properties: p})
		}
	}
	if d.cfg.BoundaryFile == "" || (layer != "" && layer != "polygons") {
		return fc, nil
	}
	b, err := os.ReadFile(d.cfg.BoundaryFile)
	if err != nil {
		return fc, fmt.Errorf("boundary file: %w", err)
	}
	var bf FeatureCollection
	if err := json.Unmarshal(b, &bf); err != nil || bf.Type != "FeatureCollection" {
		return fc, fmt.Errorf("boundary file %s is not a GeoJSON FeatureCollection: %v", d.cfg.BoundaryFile, err)
	}
	for _, f := range bf.Features {
		p := map[string]any{}
		for k, v := range f.Properties {
			p[k] = v
		}
		if code, ok := p["oktmo"].(string); ok {
			for k, v := range props[code] {
				p[k] = v
			}
		}
		fc.Features = append(fc.Features, Feature{Type: "Feature", Geometry: f.Geometry, Properties: p})
	}
	return fc, nil
}
