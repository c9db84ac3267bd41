package choropleth

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// esc is XML-escaped text.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// pathData is the SVG path of a shape's polygons, holes included (drawn with fill-rule evenodd).
func (l Layout) pathData(s Shape) string {
	var b strings.Builder
	for _, poly := range s.Polygons {
		for _, r := range poly {
			for i, p := range r {
				x, y := l.Project(p)
				if i == 0 {
					b.WriteString("M")
				} else {
					b.WriteString("L")
				}
				b.WriteString(num(x))
				b.WriteByte(',')
				b.WriteString(num(y))
			}
			b.WriteString("Z")
		}
	}
	return b.String()
}

// WriteSVG writes the map as a standalone SVG document.
func (m *Map) WriteSVG(w io.Writer) error {
	l := m.NewLayout()
	bw := bufio.NewWriter(w)
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	p(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="DejaVu Sans, Arial, sans-serif">`+"\n",
		l.W, l.H, l.W, l.H)
	p(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	p(`<text x="%s" y="34" font-size="24" font-weight="bold" fill="#222">%s</text>`+"\n", num(margin), esc(m.Title))
	p(`<text x="%s" y="60" font-size="15" fill="#555">%s</text>`+"\n", num(margin), esc(m.Subtitle))
	p(`<g id="municipalities" stroke="#4d4d4d" stroke-width="0.7" stroke-linejoin="round" fill-rule="evenodd">` + "\n")
	for _, s := range m.Shapes {
		v := m.value(s.OKTMO)
		title := s.Name
		if lb, ok := m.Labels[s.OKTMO]; ok {
			title = lb.Text
		}
		p(`<path data-oktmo="%s" data-value="%s" fill="%s" d="%s"><title>%s: %s</title></path>`+"\n",
			esc(s.OKTMO), esc(formatValue(v)), hex(m.Scale.Color(v)), l.pathData(s), esc(title), esc(formatValue(v)))
	}
	p("</g>\n")
	p(`<g id="labels" font-size="11" fill="#111" text-anchor="middle" stroke="#ffffff" stroke-width="3" paint-order="stroke" stroke-linejoin="round">` + "\n")
	for _, s := range m.Shapes {
		lb := m.labelAt(s)
		x, y := l.Project(lb.At)
		p(`<text x="%s" y="%s">%s</text>`+"\n", num(x), num(y+4), esc(lb.Text))
	}
	p("</g>\n")
	// Legend: a vertical bar, red (max) on top.
	p(`<defs><linearGradient id="scale" x1="0" y1="1" x2="0" y2="0">`)
	for i, c := range stops {
		p(`<stop offset="%.2f" stop-color="%s"/>`, float64(i)/float64(len(stops)-1), hex(c))
	}
	p("</linearGradient></defs>\n")
	p(`<g id="legend" font-size="13" fill="#222">`+"\n"+`<text x="%s" y="%s" font-weight="bold">%s</text>`+"\n",
		num(l.LegendX), num(l.LegendY-14), esc(m.Legend))
	p(`<rect x="%s" y="%s" width="%s" height="%s" fill="url(#scale)" stroke="#4d4d4d" stroke-width="0.7"/>`+"\n",
		num(l.LegendX), num(l.LegendY), num(l.LegendW), num(l.LegendH))
	for _, t := range m.Scale.Ticks() {
		y := l.LegendY + l.LegendH*(1-(t-m.Scale.Min)/(m.Scale.Max-m.Scale.Min))
		p(`<text x="%s" y="%s">%s</text>`+"\n", num(l.LegendX+l.LegendW+8), num(y+4), esc(formatValue(t)))
	}
	p(`<rect x="%s" y="%s" width="%s" height="14" fill="%s" stroke="#4d4d4d" stroke-width="0.7"/><text x="%s" y="%s">нет данных</text>`+"\n",
		num(l.LegendX), num(l.LegendY+l.LegendH+16), num(l.LegendW), hex(NoData), num(l.LegendX+l.LegendW+8), num(l.LegendY+l.LegendH+27))
	p("</g>\n")
	p(`<g id="unknown" fill="#222"><text x="%s" y="%s" font-size="13">%s:</text><text x="%s" y="%s" font-size="28" font-weight="bold">%d</text></g>`+"\n",
		num(l.LegendX), num(l.LegendY+l.LegendH+70), esc(m.unknownLabel()), num(l.LegendX), num(l.LegendY+l.LegendH+102), m.Unknown)
	p(`<text id="attribution" x="%s" y="%s" font-size="12" fill="#555" text-anchor="end">%s</text>`+"\n",
		num(l.W-margin), num(l.H-10), esc(m.Attribution))
	p("</svg>\n")
	return bw.Flush()
}
