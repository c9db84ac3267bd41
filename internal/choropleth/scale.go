package choropleth

import (
	"fmt"
	"image/color"
	"math"
)

// stops run from blue (few) through pale yellow to red (many), ColorBrewer's RdYlBu reversed: readable
// for the common colour-vision deficiencies and in print.
var stops = []color.RGBA{
	{0x2c, 0x7b, 0xb6, 0xff},
	{0xab, 0xd9, 0xe9, 0xff},
	{0xff, 0xff, 0xbf, 0xff},
	{0xfd, 0xae, 0x61, 0xff},
	{0xd7, 0x19, 0x1c, 0xff},
}

// NoData is the fill of a municipality without a value.
var NoData = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}

// Scale maps a value in [Min, Max] onto the colour stops; values outside are clamped.
type Scale struct{ Min, Max float64 }

// NewScale spans 0 to the largest value. floor raises the top (e.g. 2 for the heat index, so that the
// usual rate, 1, never looks alarming just because nothing was unusual); an all-zero map gets 0..1.
func NewScale(values map[string]float64, floor float64) Scale {
	s := Scale{Max: floor}
	for _, v := range values {
		if !math.IsNaN(v) && v > s.Max {
			s.Max = v
		}
	}
	if s.Max <= s.Min {
		s.Max = s.Min + 1
	}
	return s
}

// Color is the fill of v.
func (s Scale) Color(v float64) color.RGBA {
	if math.IsNaN(v) {
		return NoData
	}
	t := (v - s.Min) / (s.Max - s.Min)
	t = math.Max(0, math.Min(1, t))
	pos := t * float64(len(stops)-1)
	i := int(pos)
	if i >= len(stops)-1 {
		return stops[len(stops)-1]
	}
	f := pos - float64(i)
	a, b := stops[i], stops[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + f*(float64(y)-float64(x)))) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}

// Ticks are the legend's labelled values: min, middle and max.
func (s Scale) Ticks() []float64 { return []float64{s.Min, (s.Min + s.Max) / 2, s.Max} }

// hex is the CSS form of a colour.
func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// formatValue prints a legend or label figure: whole (or large) numbers without decimals, others with two.
func formatValue(v float64) string {
	if v == math.Trunc(v) || math.Abs(v) >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
