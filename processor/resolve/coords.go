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
	earthKm           = 6371.0
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
	best, bestKm := -1, math.Inf(1)
	for _, p := range r.points {
		d := distanceKm(lat, lon, p.lat, p.lon)
		if p.radiusKm > 0 {
			if d <= p.radiusKm {
				return p.mun, true // okrugs lie far apart: at most one contains the point
			}
			continue
		}
		if d < bestKm {
			best, bestKm = p.mun, d
		}
	}
	if best < 0 || bestKm > maxDistrictKm {
		return -1, false
	}
	return best, true
}

// distanceKm is the equirectangular approximation, accurate to well under 1% at a region's scale.
func distanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	x := (lon2 - lon1) * rad * math.Cos((lat1+lat2)/2*rad)
	y := (lat2 - lat1) * rad
	return earthKm * math.Hypot(x, y)
}
