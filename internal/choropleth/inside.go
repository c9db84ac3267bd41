package choropleth

import "math"

// InsidePixel finds a pixel well inside a shape as drawn: the one farthest from its borders (at least
// clearance pixels) and clear of the box its label is written in. Tests read the fill there; it also
// tells whether a shape is big enough on the canvas to hold anything.
func (m *Map) InsidePixel(s Shape, clearance float64) (x, y int, ok bool) {
	l := m.NewLayout()
	lx, ly := l.Project(m.labelAt(s).At)
	type seg struct{ x1, y1, x2, y2 float64 }
	var segs []seg
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, poly := range s.Polygons {
		for _, r := range poly {
			for i := range r {
				x1, y1 := l.Project(r[i])
				x2, y2 := l.Project(r[(i+1)%len(r)])
				segs = append(segs, seg{x1, y1, x2, y2})
				minX, maxX = math.Min(minX, x1), math.Max(maxX, x1)
				minY, maxY = math.Min(minY, y1), math.Max(maxY, y1)
			}
		}
	}
	inside := func(px, py float64) bool { // even-odd over every ring, as the SVG fills
		in := false
		for _, g := range segs {
			if (g.y1 > py) != (g.y2 > py) && px < g.x1+(py-g.y1)*(g.x2-g.x1)/(g.y2-g.y1) {
				in = !in
			}
		}
		return in
	}
	dist := func(px, py float64) float64 {
		best := math.Inf(1)
		for _, g := range segs {
			dx, dy := g.x2-g.x1, g.y2-g.y1
			t := 0.0
			if n := dx*dx + dy*dy; n > 0 {
				t = math.Max(0, math.Min(1, ((px-g.x1)*dx+(py-g.y1)*dy)/n))
			}
			best = math.Min(best, math.Hypot(px-g.x1-t*dx, py-g.y1-t*dy))
		}
		return best
	}
	best := clearance
	for py := math.Floor(minY) + 0.5; py < maxY; py += 2 {
		for px := math.Floor(minX) + 0.5; px < maxX; px += 2 {
			if math.Abs(px-lx) < 80 && py > ly-14 && py < ly+10 || !inside(px, py) {
				continue
			}
			if d := dist(px, py); d >= best {
				best, x, y, ok = d, int(px), int(py), true
			}
		}
	}
	return x, y, ok
}
