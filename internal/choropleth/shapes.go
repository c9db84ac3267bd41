// Package choropleth draws a region's municipalities coloured by a figure each (the heat map without
// Grafana): SVG written by hand and PNG rasterised in pure Go, with a legend, labels, a title, the
// appeals of unknown place beside the map and the map data's attribution.
package choropleth

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Point is a longitude/latitude pair (GeoJSON order).
type Point [2]float64

// Ring is a closed line of points; the first point may or may not repeat at the end.
type Ring []Point

// Shape is one municipality: its OKTMO code (the GeoJSON feature id), name and polygons, each an outer
// ring followed by its holes (a city inside its district is such a hole).
type Shape struct {
	OKTMO    string
	Name     string
	Polygons [][]Ring
}

// ParseGeoJSON reads a FeatureCollection of Polygon/MultiPolygon features whose id (or
// properties.oktmo) is the OKTMO code.
func ParseGeoJSON(b []byte) ([]Shape, error) {
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			ID         json.RawMessage `json:"id"`
			Properties struct {
				OKTMO string `json:"oktmo"`
				Name  string `json:"name"`
			} `json:"properties"`
			Geometry struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		return nil, fmt.Errorf("choropleth: boundaries: %w", err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, fmt.Errorf("choropleth: boundaries: type %q, want FeatureCollection", fc.Type)
	}
	out := make([]Shape, 0, len(fc.Features))
	for i, f := range fc.Features {
		s := Shape{OKTMO: f.Properties.OKTMO, Name: f.Properties.Name}
		var id string
		if json.Unmarshal(f.ID, &id) == nil && id != "" {
			s.OKTMO = id
		}
		if s.OKTMO == "" {
			return nil, fmt.Errorf("choropleth: boundaries: feature %d has no id (OKTMO)", i)
		}
		var err error
		switch f.Geometry.Type {
		case "Polygon":
			var p []Ring
			err = json.Unmarshal(f.Geometry.Coordinates, &p)
			s.Polygons = [][]Ring{p}
		case "MultiPolygon":
			err = json.Unmarshal(f.Geometry.Coordinates, &s.Polygons)
		default:
			err = fmt.Errorf("geometry %q, want Polygon or MultiPolygon", f.Geometry.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("choropleth: boundaries: feature %s: %w", s.OKTMO, err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("choropleth: boundaries: no features")
	}
	return out, nil
}

// bounds is the lon/lat box of all shapes.
func bounds(shapes []Shape) (minLon, minLat, maxLon, maxLat float64) {
	minLon, minLat, maxLon, maxLat = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, s := range shapes {
		for _, p := range s.Polygons {
			for _, r := range p {
				for _, pt := range r {
					minLon, maxLon = math.Min(minLon, pt[0]), math.Max(maxLon, pt[0])
					minLat, maxLat = math.Min(minLat, pt[1]), math.Max(maxLat, pt[1])
				}
			}
		}
	}
	return
}
