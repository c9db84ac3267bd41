package dedup

import (
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
)

// houseWords precede a house number.
var houseWords = map[string]bool{"дом": true, "дома": true, "доме": true, "домом": true, "д": true, "корпус": true,
	"корп": true, "строение": true, "стр": true}

// maxHouseWord is the longest house word in bytes («строение»). Lowering keeps a Cyrillic word's length,
// so a longer word is none of them.
const maxHouseWord = len("строение")

// maxPlaces bounds the names and the numbers a record keeps; appeals rarely name more.
const maxPlaces = 12

// places returns the hashed stems of the proper names (a capitalised word inside a sentence: streets,
// villages, city districts) and, separately, the house numbers a text names (a number after «дом», «д.»,
// «№», «корпус» or right after a name: «Гагарина 12»), each sorted and distinct.
// Overlap of words alone merges "нет холодной воды, Первомайский проспект" with "нет холодной воды,
// улица Гагарина": the words of the problem outweigh the address. The places let the matcher refuse such
// pairs (placesConflict).
func (s *stemmer) places(text string, buf []byte) (names, nums []uint32, _ []byte) {
	sentenceStart, afterHouse := true, false
	for i := 0; i < len(text); {
		r, n := nextRune(text, i)
		if !isWordRune(r) {
			switch r {
			case '.', '!', '?', '\n', ':', ';':
				sentenceStart = true
			case '№':
				afterHouse = true
			}
			i += n
			continue
		}
		j := i
		title, lowers, runes := r >= 'А' && r <= 'Я' || r == 'Ё' || r >= 'A' && r <= 'Z' || r >= 0x80 && unicode.IsUpper(r), 0, 0
		for j < len(text) {
			r, n := nextRune(text, j)
			if !isWordRune(r) {
				break
			}
			if j > i && (r >= 'а' && r <= 'я' || r == 'ё' || r >= 'a' && r <= 'z' || r >= 0x80 && unicode.IsLower(r)) {
				lowers++
			}
			runes++
			j += n
		}
		word := text[i:j]
		house := false
		// Only names and words short enough to be a house word are lowered: most words are neither.
		switch {
		case isDigits(word):
			if afterHouse && len(word) <= 4 {
				nums = append(nums, uint32(xxhash.Sum64String(word)))
			}
		case title && !sentenceStart && lowers >= 2 && lowers == runes-1:
			buf = lowerWord(buf[:0], word)
			if st := s.stem(buf); st != "" && !isDigits(st) {
				names = append(names, uint32(xxhash.Sum64String(st)))
				house = true
			}
		case len(word) <= maxHouseWord && houseInitial(word):
			buf = lowerWord(buf[:0], word)
			house = houseWords[string(buf)]
		}
		sentenceStart, afterHouse = false, house
		i = j
	}
	return sortedSet(names), sortedSet(nums), buf
}

// houseInitial reports whether word starts with the letter of a house word (д, к, с in either case), so
// that the other short words (prepositions, «не», «и») are neither lowered nor looked up.
func houseInitial(word string) bool {
	if len(word) < 2 {
		return false
	}
	switch uint16(word[0])<<8 | uint16(word[1]) {
	case 0xd0b4, 0xd094, 0xd0ba, 0xd09a, 0xd181, 0xd0a1: // д Д к К с С
		return true
	}
	return false
}

// nextRune is utf8.DecodeRuneInString(s[i:]) with the two-byte sequences of Cyrillic inline: the
// library takes its slow path for every non-ASCII rune, which was a third of places' time.
func nextRune(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	} else if c >= 0xc2 && c < 0xe0 && i+1 < len(s) && s[i+1]&0xc0 == 0x80 {
		return rune(c&0x1f)<<6 | rune(s[i+1]&0x3f), 2
	}
	return utf8.DecodeRuneInString(s[i:])
}

// lowerWord appends word lowered, with ё as е, as the stemmer's cache keys are.
func lowerWord(buf []byte, word string) []byte {
	for _, r := range word {
		if r == 'ё' || r == 'Ё' {
			r = 'е'
		}
		buf = utf8.AppendRune(buf, lower(r))
	}
	return buf
}

func sortedSet(v []uint32) []uint32 {
	slices.Sort(v)
	v = slices.Compact(v)
	if len(v) > maxPlaces {
		v = v[:maxPlaces]
	}
	return v
}

// placesConflict tells two reports of the same kind of problem at different places apart: each names a
// place the other does not, or both give house numbers and share none. A text that names fewer places
// (a repost with a comment, a neighbour writing just "у нас нет воды") is not refused.
func placesConflict(a, b *member) bool {
	if len(a.nums) > 0 && len(b.nums) > 0 && !intersects(a.nums, b.nums) {
		return true
	}
	return hasOutside(a.names, b.names) && hasOutside(b.names, a.names)
}

// hasOutside reports whether sorted a holds a value sorted b does not.
func hasOutside(a, b []uint32) bool {
	for _, v := range a {
		if _, ok := slices.BinarySearch(b, v); !ok {
			return true
		}
	}
	return false
}

func intersects(a, b []uint32) bool {
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			return true
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return false
}
