package pii

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/teplokarta/teplokarta/internal/testenv"
)

// streetName is a street, avenue or square named after someone, found without the masker's dictionaries.
var streetName = regexp.MustCompile(`(?:улиц[аеуы]|ул\.|проспект[ае]?|пр-т|площад[иь]|пл\.|имени|им\.)\s*((?:[А-ЯЁ]\.\s*){0,2}[А-ЯЁ][а-яё]+)`)

// TestNamesOnPortalTexts masks the «Наш дом» portal's 1,259 real appeals (shared data): every street,
// square and «имени …» name they hold survives, and the names of people in them are found. The spans
// are logged with -v for reading; docs/pii.md has the count and how many were people.
func TestNamesOnPortalTexts(t *testing.T) {
	f, err := os.Open(filepath.Join(testenv.SharedData(t), "nashdom-ryazan", "train.csv"))
	if err != nil {
		t.Skip("shared data not present:", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	m := New()
	streets, spans := 0, 0
	for _, r := range rows[1:] {
		text := r[1]
		masked := m.Mask(text)
		for _, s := range streetName.FindAllStringSubmatch(text, -1) {
			streets++
			if !strings.Contains(masked, s[0]) {
				t.Errorf("%q lost from %q:\n%s", s[0], text, masked)
			}
		}
		for _, s := range m.names.find(text, tokenize(text, nil), nil) {
			spans++
			t.Logf("%q", text[s.start:s.end])
		}
	}
	t.Logf("%d texts, %d street names kept, %d name spans", len(rows)-1, streets, spans)
	if streets < 400 || spans < 20 {
		t.Errorf("%d street names, %d name spans: the portal's texts hold more of both", streets, spans)
	}
}
