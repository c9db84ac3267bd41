package dedup

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"

	"github.com/teplokarta/teplokarta/internal/model"
)

func hashes(words ...string) []uint32 {
	var out []uint32
	for _, w := range words {
		out = append(out, uint32(xxhash.Sum64String(w)))
	}
	return sortedSet(out)
}

func TestPlaces(t *testing.T) {
	s := newStemmer(1000)
	tests := []struct {
		text        string
		names, nums []string
	}{
		{"В Рязани, Первомайский проспект, нет холодной воды с самого утра.", []string{"рязани", "первомайский"}, nil},
		{"Отключение воды. В Рязани, улица Гагарина, дом 12", []string{"рязани", "гагарина"}, []string{"12"}},
		{"На Гагарина 12 и у дома № 7 течёт, а в 3 подъезде нет света", []string{"гагарина"}, []string{"12", "7"}},
		{"Нет воды! Уже 2 дня так.", nil, nil},                                       // sentence starts are not names, counts are not houses
		{"Управляющая компания «Наш Дом» не отвечает", nil, nil},                     // stop words and boilerplate
		{"Звонили в МЧС и в ЖКХ, в доме 5а нет света", nil, nil},                     // abbreviations and "5а" are not places
		{"в Ёлкино у дома 2024 и 12345 течёт", []string{"елкино"}, []string{"2024"}}, // five digits are not a house
	}
	for _, tc := range tests {
		names, nums, _ := s.places(tc.text, nil)
		var wantNames []uint32
		for _, w := range tc.names {
			wantNames = append(wantNames, uint32(xxhash.Sum64String(s.stem([]byte(w)))))
		}
		if !slices.Equal(names, sortedSet(wantNames)) {
			t.Errorf("%q: names %v, want stems of %v", tc.text, names, tc.names)
		}
		if !slices.Equal(nums, hashes(tc.nums...)) {
			t.Errorf("%q: numbers %v, want %v", tc.text, nums, tc.nums)
		}
	}
}

func TestPlacesConflict(t *testing.T) {
	s := newStemmer(1000)
	rec := func(text string) *member {
		m := &member{}
		m.names, m.nums, _ = s.places(text, nil)
		return m
	}
	tests := []struct {
		a, b     string
		conflict bool
	}{
		{"В Рязани, Первомайский проспект, нет воды", "В Рязани, улица Гагарина, нет воды", true},
		{"В Рязани в доме 57 нет отопления", "В Рязани в доме 47 нет отопления", true},
		{"В Рязани, улица Гагарина, дом 12, нет воды", "У нас на Гагарина 12 нет воды", false},
		{"В Рязани, улица Гагарина, нет воды", "Нет воды со вчерашнего дня", false}, // names fewer places
		{"Отключение воды. В Рязани, улица Гагарина", "В Рязани, улица Гагарина", false},
		{"В доме 5 нет воды", "Нет воды в доме 5 и 7", false},
	}
	for _, tc := range tests {
		if got := placesConflict(rec(tc.a), rec(tc.b)); got != tc.conflict {
			t.Errorf("%q vs %q: conflict %v, want %v", tc.a, tc.b, got, tc.conflict)
		}
		if got := placesConflict(rec(tc.b), rec(tc.a)); got != tc.conflict {
			t.Errorf("%q vs %q: conflict %v, want %v (not symmetric)", tc.b, tc.a, got, tc.conflict)
		}
	}
}

func TestRecordRoundTrip(t *testing.T) {
	m := member{eventTime: 1762160400, size: 9, feat: []uint32{3, 7, 11}, names: []uint32{5, 9}, nums: []uint32{12},
		incident: "vk:wall-1_2"}
	got, err := decodeMember(m.encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.eventTime != m.eventTime || got.size != m.size || !slices.Equal(got.feat, m.feat) ||
		!slices.Equal(got.names, m.names) || !slices.Equal(got.nums, m.nums) || got.incident != m.incident {
		t.Fatalf("round trip: got %+v, want %+v", got, m)
	}
	// A record written before places existed: no flag, the incident right after the features.
	legacy := string([]byte{0x69, 0x08, 0x8a, 0x10, 0, 9, 1, 0, 0, 0, 3}) + "pos:1"
	got, err = decodeMember(legacy)
	if err != nil || got.incident != "pos:1" || got.names != nil || !slices.Equal(got.feat, []uint32{3}) {
		t.Fatalf("legacy record: %+v, %v", got, err)
	}
	for _, bad := range []string{m.encode()[:7+12+1], m.encode()[:7+12+2+4]} {
		if _, err := decodeMember(bad); err == nil {
			t.Errorf("truncated record %q decoded", bad)
		}
	}
}

// The same kind of problem at other streets and houses of one city within the horizon stays apart; the
// same report again (another channel, a retyped copy) still joins.
func TestSameProblemElsewhereStaysApart(t *testing.T) {
	forEachDeduper(t, func(t *testing.T, newDeduper func(testing.TB) testDeduper) {
		d := newDeduper(t)
		ctx := testCtx(t)
		texts := []string{
			"В Рязани, Первомайский проспект, нет холодной воды с самого утра. Дети и пожилые без воды. Сколько можно ждать?",
			"В Рязани, улица Высоковольтная, нет холодной воды с самого утра. Дети и пожилые без воды. Когда дадут воду?",
			"В Рязани в Канищеве в подъезде дома 57 не работает отопление. Дети болеют. Уже 2 дня так.",
			"В Рязани в Канищеве в подъезде дома 47 не работает отопление. Дети болеют. Уже 2 дня так.",
			"Отключение воды. В Рязани, Первомайский проспект, нет холодной воды с самого утра. Дети и пожилые без воды. Сколько можно ждать?",
		}
		var batch []*model.Appeal
		for i, text := range texts {
			batch = append(batch, appealAt(model.SourceVK, fmt.Sprintf("p%d", i), text, oktmoRyazan, t0.Add(time.Duration(i)*time.Hour), 0, int64(i)))
		}
		want := []Decision{{Incident, batch[0].ID}, {Incident, batch[1].ID}, {Incident, batch[2].ID}, {Incident, batch[3].ID},
			{Voice, batch[0].ID}}
		for split := range []int{0, 1} { // one batch, then one appeal per batch
			d := newDeduper(t)
			var got []Decision
			if split == 0 {
				got = decide(t, ctx, d, batch...)
			} else {
				for _, a := range batch {
					got = append(got, decide(t, ctx, d, a)...)
				}
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("batches of %d: %q: got %v, want %v", 1+split*(len(batch)-1), texts[i], got[i], want[i])
				}
			}
		}
		_ = d
	})
}

func TestLowerMatchesUnicode(t *testing.T) {
	for r := rune(0); r < 0x3000; r++ {
		if got, want := lower(r), unicode.ToLower(r); got != want {
			t.Fatalf("lower(%q) = %q, want %q", r, got, want)
		}
		if got, want := isWordRune(r), unicode.IsLetter(r) || unicode.IsDigit(r); got != want {
			t.Fatalf("isWordRune(%q) = %v, want %v", r, got, want)
		}
	}
}

// TestHouseInitial checks the byte test against the house words themselves and their capitalised forms,
// and that it lets no other initial through.
func TestHouseInitial(t *testing.T) {
	for w := range houseWords {
		for _, form := range []string{w, strings.ToUpper(w[:2]) + w[2:]} {
			if !houseInitial(form) {
				t.Errorf("houseInitial(%q) = false", form)
			}
		}
	}
	for _, w := range []string{"", "д"[:1], "на", "в", "и", "Гагарина", "12", "dom", "ё"} {
		if houseInitial(w) {
			t.Errorf("houseInitial(%q) = true", w)
		}
	}
}

// TestNextRune compares nextRune with utf8.DecodeRuneInString on every one- and two-byte string, and on
// two-byte prefixes followed by truncation and invalid continuations.
func TestNextRune(t *testing.T) {
	check := func(s string, i int) {
		r, n := nextRune(s, i)
		wr, wn := utf8.DecodeRuneInString(s[i:])
		if r != wr || n != wn {
			t.Fatalf("nextRune(%q, %d) = %U, %d; want %U, %d", s, i, r, n, wr, wn)
		}
	}
	for a := range 256 {
		check(string([]byte{byte(a)}), 0)
		for b := range 256 {
			s := string([]byte{'x', byte(a), byte(b)})
			check(s, 1)
			check(s, 2)
			check(s+"\x80", 1)
		}
	}
	for _, s := range []string{"Гагарина 12", "ёЁ€😀", "\xed\xa0\x80"} {
		for i := 0; i < len(s); i++ {
			check(s, i)
		}
	}
}
