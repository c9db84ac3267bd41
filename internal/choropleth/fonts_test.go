package choropleth

import (
	"testing"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
)

// The built-in fallback must write Russian names when no system font is installed.
func TestBuiltinFontsHaveCyrillic(t *testing.T) {
	for name, ttf := range map[string][]byte{"goregular": goregular.TTF, "gobold": gobold.TTF} {
		f, err := opentype.Parse(ttf)
		if err != nil {
			t.Fatal(err)
		}
		if !hasCyrillic(f) {
			t.Errorf("%s lacks Cyrillic glyphs", name)
		}
	}
}
