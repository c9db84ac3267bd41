package choropleth

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
)

// System fonts read when present (Debian's fonts-dejavu-core); the Go fonts, which also cover Cyrillic
// (WGL4), are the fallback built into the binary.
var (
	systemRegular = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
	systemBold    = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
)

type fonts struct{ regular, bold *opentype.Font }

var loadFonts = sync.OnceValues(func() (fonts, error) {
	pick := func(path string, builtin []byte) (*opentype.Font, error) {
		if b, err := os.ReadFile(path); err == nil {
			if f, err := opentype.Parse(b); err == nil && hasCyrillic(f) {
				return f, nil
			}
		}
		return opentype.Parse(builtin)
	}
	r, err := pick(systemRegular, goregular.TTF)
	if err != nil {
		return fonts{}, fmt.Errorf("choropleth: font: %w", err)
	}
	b, err := pick(systemBold, gobold.TTF)
	if err != nil {
		return fonts{}, fmt.Errorf("choropleth: font: %w", err)
	}
	return fonts{regular: r, bold: b}, nil
})

// hasCyrillic tells whether a font can write the map's Russian names.
func hasCyrillic(f *opentype.Font) bool {
	var buf sfnt.Buffer
	for _, r := range "АЯяЁё" {
		if i, err := f.GlyphIndex(&buf, r); err != nil || i == 0 {
			return false
		}
	}
	return true
}

func face(f *opentype.Font, size float64) (font.Face, error) {
	return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
}
