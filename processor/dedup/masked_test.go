package dedup

import (
	"slices"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/teplokarta/teplokarta/processor/pii"
)

// Texts reach dedup masked (processor/normalize runs first). A caller's name must neither count as a
// place (two reports of one problem by different callers would be kept apart) nor as a word of the
// problem, and the street named after someone must stay a place.
func TestMaskedNamesAreNeitherPlacesNorWords(t *testing.T) {
	s := newStemmer(1000)
	m := pii.New()
	tests := []struct {
		raw    string
		places []string
	}{
		{"Звонит Иванов Иван Петрович: на улице Гагарина, дом 12 нет воды", []string{"гагарина"}},
		{"Нет воды на улице Есенина, дом 3. С уважением, Петрова А. В.", []string{"есенина"}},
		{"Участковый Кириллов не приехал, в Шилово на улице Ленина драка", []string{"шилово", "ленина"}},
	}
	for _, tc := range tests {
		text := m.Mask(tc.raw)
		names, _, _ := s.places(text, nil)
		var want []uint32
		for _, w := range tc.places {
			want = append(want, uint32(xxhash.Sum64String(s.stem([]byte(w)))))
		}
		if !slices.Equal(names, sortedSet(want)) {
			t.Errorf("%q (masked %q): places %v, want the stems of %v", tc.raw, text, names, tc.places)
		}
		stems, _ := s.stems(nil, text, nil)
		without, _ := s.stems(nil, strings.ReplaceAll(text, "[фио]", ""), nil)
		if !slices.Equal(stems, without) {
			t.Errorf("%q: the mask token is a word of the problem: %v", text, stems)
		}
	}
}
