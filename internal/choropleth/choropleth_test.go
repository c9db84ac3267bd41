package choropleth_test

import (
	"bytes"
	"encoding/xml"
	"image/color"
	"image/png"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/teplokarta/teplokarta/internal/choropleth"
	"github.com/teplokarta/teplokarta/internal/geo"
)

func TestScale(t *testing.T) {
	s := choropleth.NewScale(map[string]float64{"a": 0, "b": 3, "c": math.NaN()}, 2)
	tests := []struct {
		v    float64
		want color.RGBA
	}{
		{0, color.RGBA{0x2c, 0x7b, 0xb6, 0xff}},     // blue
		{-5, color.RGBA{0x2c, 0x7b, 0xb6, 0xff}},    // clamped
		{1.5, color.RGBA{0xff, 0xff, 0xbf, 0xff}},   // the middle stop
		{3, color.RGBA{0xd7, 0x19, 0x1c, 0xff}},     // red
		{99, color.RGBA{0xd7, 0x19, 0x1c, 0xff}},    // clamped
		{math.NaN(), choropleth.NoData},             // no value
		{0.375, color.RGBA{0x6c, 0xaa, 0xd0, 0xff}}, // half way from blue to light blue
	}
	for _, tc := range tests {
		if got := s.Color(tc.v); got != tc.want {
			t.Errorf("Color(%v) = %v, want %v", tc.v, got, tc.want)
		}
	}
	if s.Max != 3 || choropleth.NewScale(map[string]float64{"a": 0.5}, 2).Max != 2 || choropleth.NewScale(nil, 0).Max != 1 {
		t.Errorf("scale tops: %v", s)
	}
}

// sample is the region's 29 municipalities at 10, Ермишинский район the hottest (28) and Шацкий район 0.
func sample(t *testing.T) *choropleth.Map {
	t.Helper()
	shapes, err := choropleth.ParseGeoJSON(geo.DefaultBoundaries())
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, s := range shapes {
		values[s.OKTMO] = 10
	}
	values[shape(t, shapes, "Ермишинский район").OKTMO] = 28
	values[shape(t, shapes, "Шацкий район").OKTMO] = 0
	return &choropleth.Map{Title: "Обращения", Subtitle: "за сутки", Legend: "обращений", Shapes: shapes, Values: values,
		Scale: choropleth.NewScale(values, 0), Unknown: 7, Attribution: geo.BoundariesAttribution}
}

func shape(t *testing.T, shapes []choropleth.Shape, name string) choropleth.Shape {
	t.Helper()
	for _, s := range shapes {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no shape %s", name)
	return choropleth.Shape{}
}

func TestSVG(t *testing.T) {
	m := sample(t)
	var b bytes.Buffer
	if err := m.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b.Bytes(), new(struct{})); err != nil {
		t.Fatalf("not XML: %v", err)
	}
	paths := regexp.MustCompile(`<path data-oktmo="(\d+)" data-value="[^"]*" fill="(#[0-9a-f]{6})"`).FindAllStringSubmatch(b.String(), -1)
	if len(paths) != 29 {
		t.Fatalf("%d municipality paths, want 29", len(paths))
	}
	fill := map[string]string{}
	for _, p := range paths {
		fill[p[1]] = p[2]
	}
	hot, zero := shape(t, m.Shapes, "Ермишинский район").OKTMO, shape(t, m.Shapes, "Шацкий район").OKTMO
	if fill[hot] != "#d7191c" || fill[zero] != "#2c7bb6" {
		t.Errorf("hottest %s, zero %s; want red #d7191c and blue #2c7bb6", fill[hot], fill[zero])
	}
	for _, want := range []string{"© OpenStreetMap contributors", "Место не определено", ">7<", "Рязань", "Шиловский"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestPNG(t *testing.T) {
	m := sample(t)
	var b bytes.Buffer
	if err := m.WritePNG(&b); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	l := m.NewLayout()
	if img.Bounds().Dx() != int(l.W) || img.Bounds().Dy() != int(l.H) {
		t.Fatalf("size %v", img.Bounds())
	}
	// Pixels inside the hottest and the zero municipality, away from borders and labels.
	for _, tc := range []struct {
		shape choropleth.Shape
		want  color.RGBA
	}{{shape(t, m.Shapes, "Ермишинский район"), color.RGBA{0xd7, 0x19, 0x1c, 0xff}}, {shape(t, m.Shapes, "Шацкий район"), color.RGBA{0x2c, 0x7b, 0xb6, 0xff}}} {
		x, y, ok := m.InsidePixel(tc.shape, 4)
		if !ok {
			t.Fatalf("no pixel found inside %s", tc.shape.OKTMO)
		}
		if got := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA); got != tc.want {
			t.Errorf("%s at (%d,%d): %v, want %v", tc.shape.Name, x, y, got, tc.want)
		}
	}
}
