package resolve

import (
	"math"

	"github.com/teplokarta/teplokarta/internal/geo"
)

// No municipal boundary polygons are available, so coordinates resolve to the nearest municipality
// point. Urban okrugs are small and enclosed by a district of the same name, so an okrug only wins
// within a radius derived from its population; outside it, the city centre counts as a point of the
// surrounding district (the district's own "display point" lies elsewhere on purpose, see the geo data).
const (
	// maxDistrictKm bounds the nearest-point search: farther points are outside the region (or junk).
	maxDistrictKm = 60.0
	// okrug radius = okrugKmPerSqrtPop·√population, clamped to [minOkrugKm, maxOkrugKm]: Рязань ≈ 12 km,
	// Касимов/Сасово/Скопин ≈ 3–4 km, roughly the built-up area's half-width.
	okrugKmPerSqrtPop = 0.017
	minOkrugKm        = 3.0
	maxOkrugKm        = 14.0
	kmPerDegree       = 6371.0 * math.Pi / 180 // of latitude, on a spherical Earth
)

type point struct {
	lat, lon float64
	mun      int
	radiusKm float64 // > 0: an urban okrug, accepted only within the radius
}

func buildPoints(muns []geo.Municipality) []point {
	okrug := map[string]int{}
	var pts []point
	for i, m := range muns {
		if m.Kind == geo.KindUrbanOkrug {
			okrug[m.Name] = i
			r := okrugKmPerSqrtPop * math.Sqrt(float64(m.Population))
			pts = append(pts, point{m.Lat, m.Lon, i, min(max(r, minOkrugKm), maxOkrugKm)})
		}
	}
	for i, m := range muns {
		if m.Kind == geo.KindUrbanOkrug {
			continue
		}
		pts = append(pts, point{m.Lat, m.Lon, i, 0})
		if o, ok := okrug[m.Centre]; ok {
			pts = append(pts, point{muns[o].Lat, muns[o].Lon, i, 0})
		}
	}
	return pts
}

func (r *Resolver) byCoords(lat, lon float64) (int, bool) {
	if lat == 0 && lon == 0 || math.IsNaN(lat) || math.IsNaN(lon) || math.Abs(lat) > 90 || math.Abs(lon) > 180 {
		return -1, false
	}
	// Equirectangular distances, accurate to well under 1% at a region's scale; compared squared, in
	// degrees of latitude, so the loop does no trigonometry.
	cosLat := math.Cos(lat * math.Pi / 180)
	best, bestD2 := -1, math.Inf(1)
	for _, p := range r.points {
		x, y := (p.lon-lon)*cosLat, p.lat-lat
		d2 := x*x + y*y
		if p.radiusKm > 0 {
			if rd := p.radiusKm / kmPerDegree; d2 <= rd*rd {
				return p.mun, true // okrugs lie far apart: at most one contains the point
			}
			continue
		}
		if d2 < bestD2 {
			best, bestD2 = p.mun, d2
		}
	}
	if best < 0 || math.Sqrt(bestD2)*kmPerDegree > maxDistrictKm {
		return -1, false
	}
	return best, true
}
