package choropleth

import (
	"math"
)

// Map is everything one picture shows.
type Map struct {
	Title    string // first line, e.g. "Индекс тепла обращений"
	Subtitle string // second line: the time range
	Legend   string // what the colours count, above the legend bar
	Shapes   []Shape
	Values   map[string]float64 // by OKTMO; a shape without a value is drawn as NoData
	Labels   map[string]Label   // by OKTMO; a shape without one is labelled by its name at its box centre
	Scale    Scale
	// Unknown is the appeals whose municipality was not determined, shown as a number beside the map.
	Unknown      int64
	UnknownLabel string // default "Место не определено"
	Attribution  string // required by the boundaries' licence, e.g. "© OpenStreetMap contributors"
	Width        int    // pixels; default 1200
	Height       int    // default 860
}

// Label is a municipality's name and where it is written (lon, lat: e.g. the gazetteer's display point,
// which lies inside the municipality and clear of the city it surrounds).
type Label struct {
	Text string
	At   Point
}

// Layout is where things go on the canvas; SVG and PNG share it, so both pictures are the same.
type Layout struct {
	W, H                   float64
	mapX, mapY, mapW, mapH float64 // map box
	lon0, lat0, kx, k      float64 // projection
	offX, offY             float64
	LegendX, LegendY       float64 // legend bar's top left
	LegendW, LegendH       float64
}

const (
	titleH  = 78.0
	margin  = 20.0
	sideW   = 270.0
	footerH = 30.0
)

// NewLayout fits the shapes into the canvas with an equirectangular projection scaled by cos(latitude)
// at the region's middle: at a region's size the distortion is invisible and the code stays tiny.
func (m *Map) NewLayout() Layout {
	w, h := m.Width, m.Height
	if w <= 0 {
		w = 1200
	}
	if h <= 0 {
		h = 860
	}
	l := Layout{W: float64(w), H: float64(h)}
	l.mapX, l.mapY = margin, titleH
	l.mapW, l.mapH = l.W-sideW-2*margin, l.H-titleH-footerH
	minLon, minLat, maxLon, maxLat := bounds(m.Shapes)
	l.lon0, l.lat0 = minLon, maxLat
	l.kx = math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
	spanX, spanY := (maxLon-minLon)*l.kx, maxLat-minLat
	l.k = math.Min(l.mapW/spanX, l.mapH/spanY)
	l.offX = l.mapX + (l.mapW-spanX*l.k)/2
	l.offY = l.mapY + (l.mapH-spanY*l.k)/2
	l.LegendX, l.LegendY, l.LegendW, l.LegendH = l.W-sideW+margin, titleH+40, 24, 260
	return l
}

// Project returns the canvas position of a lon/lat point.
func (l Layout) Project(p Point) (x, y float64) {
	return l.offX + (p[0]-l.lon0)*l.kx*l.k, l.offY + (l.lat0-p[1])*l.k
}

// labelAt is where a shape's label goes.
func (m *Map) labelAt(s Shape) Label {
	if lb, ok := m.Labels[s.OKTMO]; ok {
		return lb
	}
	minLon, minLat, maxLon, maxLat := bounds([]Shape{s})
	return Label{Text: s.Name, At: Point{(minLon + maxLon) / 2, (minLat + maxLat) / 2}}
}

func (m *Map) unknownLabel() string {
	if m.UnknownLabel != "" {
		return m.UnknownLabel
	}
	return "Место не определено"
}

func (m *Map) value(oktmo string) float64 {
	if v, ok := m.Values[oktmo]; ok {
		return v
	}
	return math.NaN()
}
