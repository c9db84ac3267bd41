package pii

import (
	"bufio"
	"embed"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The dictionaries are written for teplokarta (sources and method: docs/pii.md). They are text so that a
// reviewer can read and extend them without touching code.
//
//go:embed dict/firstnames.txt dict/places.txt dict/persons.txt
var dictFS embed.FS

// dictionaries holds the word sets the name finder consults, all lower case with ё written е.
type dictionaries struct {
	firstNames     map[string]bool // every case form of every first name
	placeExact     map[string]bool // toponym markers matched as whole words («ул», «им»)
	placePrefixes  []string        // toponym markers matched by their beginning («улиц», «площад»)
	personContexts map[string]bool // words after which a lone surname is a person («звонит», «депутату»)
}

func loadDictionaries() (*dictionaries, error) {
	d := &dictionaries{firstNames: map[string]bool{}, placeExact: map[string]bool{}, personContexts: map[string]bool{}}
	gender := ""
	err := eachLine("dict/firstnames.txt", func(line string) error {
		switch line {
		case "[male]", "[female]":
			gender = line
			return nil
		}
		if gender == "" {
			return fmt.Errorf("name %q before a [male] or [female] section", line)
		}
		f := strings.Fields(foldWord(line))
		if len(f) > 1 { // irregular: the listed forms only
			for _, w := range f[1:] {
				d.firstNames[w] = true
			}
			return nil
		}
		for _, w := range caseForms(f[0], gender == "[male]") {
			d.firstNames[w] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := eachLine("dict/places.txt", func(line string) error {
		if w, ok := strings.CutPrefix(line, "="); ok {
			d.placeExact[foldWord(w)] = true
		} else {
			d.placePrefixes = append(d.placePrefixes, foldWord(line))
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := eachLine("dict/persons.txt", func(line string) error {
		d.personContexts[foldWord(line)] = true
		return nil
	}); err != nil {
		return nil, err
	}
	return d, nil
}

// eachLine calls fn with every non-empty, non-comment line of an embedded dictionary.
func eachLine(name string, fn func(string) error) error {
	f, err := dictFS.Open(name)
	if err != nil {
		return fmt.Errorf("pii dictionary %s: %w", name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("pii dictionary %s:%d: %w", name, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("pii dictionary %s: %w", name, err)
	}
	return nil
}

// caseForms returns a first name's singular forms in the six cases from its nominative, by its ending
// (the regular declensions of Russian first names). Forms that do not exist («Аннай») may come out too:
// they are only looked up, never written.
func caseForms(nom string, male bool) []string {
	r := []rune(nom)
	last := string(r[len(r)-1])
	stem := string(r[:len(r)-1])
	switch {
	case strings.HasSuffix(nom, "ия"): // Мария, Евгения, Илья is «ья»
		s := string(r[:len(r)-2])
		return []string{nom, s + "ии", s + "ию", s + "ией", s + "иею"}
	case last == "а": // Анна, Никита, Ольга, Наташа
		return []string{nom, stem + "ы", stem + "и", stem + "е", stem + "у", stem + "ой", stem + "ей", stem + "ою"}
	case last == "я": // Наталья, Илья, Таня
		return []string{nom, stem + "и", stem + "е", stem + "ю", stem + "ей", stem + "ею"}
	case strings.HasSuffix(nom, "ий"): // Василий, Юрий
		s := string(r[:len(r)-2])
		return []string{nom, s + "ия", s + "ию", s + "ием", s + "ии"}
	case last == "й": // Андрей, Николай
		return []string{nom, stem + "я", stem + "ю", stem + "ем", stem + "е"}
	case last == "ь" && male: // Игорь
		return []string{nom, stem + "я", stem + "ю", stem + "ем", stem + "е"}
	case last == "ь": // Нинель
		return []string{nom, stem + "и", nom + "ю"}
	case !male: // Марьям, Нелли: not declined
		return []string{nom}
	default: // Иван, Пётр is irregular
		return []string{nom, nom + "а", nom + "у", nom + "ом", nom + "е"}
	}
}

// foldWord lower-cases a word and writes ё as е: texts spell the same name both ways.
func foldWord(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		r, ok := cyrillicAt(s, i)
		if !ok {
			r, n := utf8.DecodeRuneInString(s[i:])
			b = utf8.AppendRune(b, unicode.ToLower(r))
			i += n
			continue
		}
		switch {
		case r == 'ё' || r == 'Ё':
			r = 'е'
		case isUpperCyrillic(r):
			r += 'а' - 'А'
		}
		b = append(b, byte(0xC0|r>>6), byte(0x80|r&0x3F))
		i += 2
	}
	return string(b)
}
