package choropleth

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

var (
	white  = color.RGBA{0xff, 0xff, 0xff, 0xff}
	ink    = color.RGBA{0x22, 0x22, 0x22, 0xff}
	grey   = color.RGBA{0x55, 0x55, 0x55, 0xff}
	border = color.RGBA{0x4d, 0x4d, 0x4d, 0xff}
)

// Image renders the map in memory: the same layout as the SVG, rasterised with golang.org/x/image/vector.
func (m *Map) Image() (*image.RGBA, error) {
	fs, err := loadFonts()
	if err != nil {
		return nil, err
	}
	l := m.NewLayout()
	w, h := int(l.W), int(l.H)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(white), image.Point{}, draw.Src)
	z := vector.NewRasterizer(w, h)
	for _, s := range m.Shapes {
		// Holes wind the other way (RFC 7946), so the rasteriser's signed coverage leaves them empty.
		z.Reset(w, h)
		for _, poly := range s.Polygons {
			for _, r := range poly {
				for i, p := range r {
					x, y := l.Project(p)
					if i == 0 {
						z.MoveTo(float32(x), float32(y))
					} else {
						z.LineTo(float32(x), float32(y))
					}
				}
				z.ClosePath()
			}
		}
		z.Draw(img, img.Bounds(), image.NewUniform(m.Scale.Color(m.value(s.OKTMO))), image.Point{})
	}
	for _, s := range m.Shapes {
		z.Reset(w, h)
		for _, poly := range s.Polygons {
			for _, r := range poly {
				for i := range r {
					x1, y1 := l.Project(r[i])
					x2, y2 := l.Project(r[(i+1)%len(r)])
					line(z, x1, y1, x2, y2, 0.35)
				}
			}
		}
		z.Draw(img, img.Bounds(), image.NewUniform(border), image.Point{})
	}

	small, err := face(fs.regular, 11)
	if err != nil {
		return nil, err
	}
	for _, s := range m.Shapes {
		lb := m.labelAt(s)
		x, y := l.Project(lb.At)
		text(img, small, lb.Text, x, y+4, ink, true, true)
	}
	title, err := face(fs.bold, 24)
	if err != nil {
		return nil, err
	}
	text(img, title, m.Title, margin, 34, ink, false, false)
	regular15, err := face(fs.regular, 15)
	if err != nil {
		return nil, err
	}
	text(img, regular15, m.Subtitle, margin, 60, grey, false, false)

	// Legend: the colour bar, red (max) on top, with its ticks.
	bold13, err := face(fs.bold, 13)
	if err != nil {
		return nil, err
	}
	regular13, err := face(fs.regular, 13)
	if err != nil {
		return nil, err
	}
	text(img, bold13, m.Legend, l.LegendX, l.LegendY-14, ink, false, false)
	x0, y0 := int(l.LegendX), int(l.LegendY)
	for dy := 0; dy < int(l.LegendH); dy++ {
		t := 1 - float64(dy)/(l.LegendH-1)
		c := m.Scale.Color(m.Scale.Min + t*(m.Scale.Max-m.Scale.Min))
		draw.Draw(img, image.Rect(x0, y0+dy, x0+int(l.LegendW), y0+dy+1), image.NewUniform(c), image.Point{}, draw.Src)
	}
	rectOutline(img, image.Rect(x0, y0, x0+int(l.LegendW), y0+int(l.LegendH)), border)
	for _, tk := range m.Scale.Ticks() {
		y := l.LegendY + l.LegendH*(1-(tk-m.Scale.Min)/(m.Scale.Max-m.Scale.Min))
		text(img, regular13, formatValue(tk), l.LegendX+l.LegendW+8, y+4, ink, false, false)
	}
	nd := image.Rect(x0, y0+int(l.LegendH)+16, x0+int(l.LegendW), y0+int(l.LegendH)+30)
	draw.Draw(img, nd, image.NewUniform(NoData), image.Point{}, draw.Src)
	rectOutline(img, nd, border)
	text(img, regular13, "нет данных", l.LegendX+l.LegendW+8, l.LegendY+l.LegendH+27, ink, false, false)

	text(img, regular13, m.unknownLabel()+":", l.LegendX, l.LegendY+l.LegendH+70, ink, false, false)
	big, err := face(fs.bold, 28)
	if err != nil {
		return nil, err
	}
	text(img, big, fmt.Sprint(m.Unknown), l.LegendX, l.LegendY+l.LegendH+102, ink, false, false)

	attr, err := face(fs.regular, 12)
	if err != nil {
		return nil, err
	}
	wAttr := font.MeasureString(attr, m.Attribution)
	text(img, attr, m.Attribution, l.W-margin-float64(wAttr)/64, l.H-10, grey, false, false)
	return img, nil
}

// WritePNG writes the map as a PNG image.
func (m *Map) WritePNG(w io.Writer) error {
	img, err := m.Image()
	if err != nil {
		return err
	}
	return png.Encode(w, img)
}

// line adds a segment of half-width hw to the rasteriser as a quad. Every quad winds the same way, so
// overlapping ones at the joints add up instead of cancelling.
func line(z *vector.Rasterizer, x1, y1, x2, y2, hw float64) {
	dx, dy := x2-x1, y2-y1
	n := math.Hypot(dx, dy)
	if n == 0 {
		return
	}
	// Lengthen by hw at both ends so that joints close.
	ux, uy := dx/n*hw, dy/n*hw
	nx, ny := -uy, ux
	x1, y1, x2, y2 = x1-ux, y1-uy, x2+ux, y2+uy
	z.MoveTo(float32(x1+nx), float32(y1+ny))
	z.LineTo(float32(x2+nx), float32(y2+ny))
	z.LineTo(float32(x2-nx), float32(y2-ny))
	z.LineTo(float32(x1-nx), float32(y1-ny))
	z.ClosePath()
}

func rectOutline(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	u := image.NewUniform(c)
	draw.Draw(img, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), u, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), u, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), u, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), u, image.Point{}, draw.Src)
}

// text draws s with its baseline at y, starting at x or centred on it; halo puts a white outline under
// it so that labels stay readable on any fill.
func text(img *image.RGBA, f font.Face, s string, x, y float64, c color.RGBA, centre, halo bool) {
	if centre {
		x -= float64(font.MeasureString(f, s)) / 64 / 2
	}
	at := func(dx, dy float64, col color.RGBA) {
		d := font.Drawer{Dst: img, Src: image.NewUniform(col), Face: f,
			Dot: fixed.Point26_6{X: fixed.Int26_6((x + dx) * 64), Y: fixed.Int26_6((y + dy) * 64)}}
		d.DrawString(s)
	}
	if halo {
		for _, o := range [][2]float64{{-1, 0}, {1, 0}, {0, -1}, {0, 1}, {-1, -1}, {1, 1}, {-1, 1}, {1, -1}} {
			at(o[0], o[1], white)
		}
	}
	at(0, 0, c)
}
