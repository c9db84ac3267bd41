package geo

import _ "embed"

// Boundaries of the default region's municipalities: a GeoJSON FeatureCollection whose feature ids are
// OKTMO codes. OpenStreetMap data under the ODbL: whatever draws it must show BoundariesAttribution.
//
//go:embed data/ryazan-municipalities.geojson
var boundaries []byte

// BoundariesAttribution is the credit the ODbL requires on every map drawn from DefaultBoundaries.
const BoundariesAttribution = "© OpenStreetMap contributors"

// DefaultBoundaries returns the default region's municipality polygons (a copy; `make geo` refreshes the
// embedded file from the shared data).
func DefaultBoundaries() []byte { return append([]byte(nil), boundaries...) }
