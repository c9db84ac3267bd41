// Package resolve finds the municipality an appeal belongs to: from the source's OKTMO code, its
// coordinates, its own place field, the appeal text, and finally the agency it was addressed to.
// Appeals nothing settles are reported as undetermined; the caller keeps and counts them.
// docs/municipality-resolution.md describes the rules and their measured quality.
package resolve

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"strings"

	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/model"
)

// Methods reported by Resolve.
const (
	MethodOKTMO  = "oktmo"
	MethodCoords = "coords"
	MethodHint   = "hint"
	MethodText   = "text"
	MethodAgency = "agency"
)

//go:embed data/*.txt
var dataFiles embed.FS

// Resolver holds immutable indexes built by New; it is safe for concurrent use.
type Resolver struct {
	g       *geo.Gazetteer
	muns    []geo.Municipality
	capital int // index of the region's capital (the most populous urban okrug), -1 if none
	lex     *lexicon
	hints   map[string]int // whole normalized place fields: "шиловский р-н", "г сасово"
	points  []point
}

// New builds the resolver's indexes from the gazetteer and the embedded Ryazan name lists (which are
// skipped for municipalities the gazetteer lacks, so another region's gazetteer still gets its own
// names and towns). It panics only if the embedded lists are malformed, a build defect.
func New(g *geo.Gazetteer) *Resolver {
	r, err := build(g)
	if err != nil {
		panic(fmt.Sprintf("resolve: %v", err))
	}
	return r
}

func build(g *geo.Gazetteer) (*Resolver, error) {
	r := &Resolver{g: g, muns: g.All(), capital: -1, lex: newLexicon(), hints: map[string]int{}}
	byName := map[string]int{}
	for i, m := range r.muns {
		byName[m.Name] = i
		if m.Kind == geo.KindUrbanOkrug && (r.capital < 0 || m.Population > r.muns[r.capital].Population) {
			r.capital = i
		}
	}
	r.lex.capital = r.capital
	if err := r.loadSettlements(byName); err != nil {
		return nil, err
	}
	if err := r.loadCapitalPlaces(); err != nil {
		return nil, err
	}
	okrugs := map[string]bool{}
	for _, m := range r.muns {
		if m.Kind == geo.KindUrbanOkrug {
			okrugs[m.Name] = true
		}
	}
	for i, m := range r.muns {
		var err error
		switch m.Kind {
		case geo.KindUrbanOkrug:
			err = r.addTown(m.Name, i, 0)
		default:
			var f flags
			if r.capital >= 0 && m.Centre == r.muns[r.capital].Name {
				f = flagNoBare // «рязанский» alone means the city or the region far more often than the district
			}
			err = r.lex.add(m.Name, i, kindDistrict, f, inflectAll)
			if err == nil && !okrugs[m.Centre] {
				err = r.addTown(m.Centre, i, 0)
			}
		}
		if err != nil {
			return nil, err
		}
		r.addHints(m, i)
	}
	r.points = buildPoints(r.muns)
	return r, nil
}

func (r *Resolver) addTown(name string, mun int, f flags) error {
	if r.lex.has(name, kindTown) {
		return nil // a data file's flagged entry wins over the gazetteer's plain one
	}
	return r.lex.add(name, mun, kindTown, f, inflectAll)
}

// addHints registers the whole-field spellings a source's place field uses.
func (r *Resolver) addHints(m geo.Municipality, i int) {
	names := []string{m.Name, m.DisplayName()}
	if m.Kind == geo.KindUrbanOkrug {
		names = append(names, "г "+m.Name, "город "+m.Name, "городской округ "+m.Name,
			"городской округ город "+m.Name, "го "+m.Name)
	} else {
		for _, s := range []string{"р-н", "рн", "муниципальный район", "муниципальный округ", "мр", "мо"} {
			names = append(names, m.Name+" "+s)
		}
	}
	for _, n := range names {
		r.hints[normalize(n)] = i
	}
}

func (r *Resolver) loadSettlements(byName map[string]int) error {
	return readLines("data/ryazan-settlements.txt", func(line string) error {
		parts := strings.Split(line, ";")
		if len(parts) < 2 {
			return fmt.Errorf("want «name ; municipality [; flag]»")
		}
		mun, ok := byName[strings.TrimSpace(parts[1])]
		if !ok {
			return nil // another region's gazetteer
		}
		var f flags
		if len(parts) > 2 {
			switch strings.TrimSpace(parts[2]) {
			case "common":
				f = flagCommon
			case "marked":
				f = flagMarked
			default:
				return fmt.Errorf("unknown flag %q", parts[2])
			}
		}
		return r.lex.add(strings.TrimSpace(parts[0]), mun, kindTown, f, inflectAll)
	})
}

func (r *Resolver) loadCapitalPlaces() error {
	if r.capital < 0 || r.muns[r.capital].Name != "Рязань" {
		return nil // the list is Ryazan's
	}
	return readLines("data/ryazan-city-places.txt", func(line string) error {
		k, name, ok := strings.Cut(line, " ")
		if !ok {
			return fmt.Errorf("want «kind name»")
		}
		name = strings.TrimSpace(name)
		switch k {
		case "district":
			return r.lex.add(name, r.capital, kindDistrict, flagNoBare, inflectAll)
		case "place":
			return r.lex.add(name, r.capital, kindPlace, 0, inflectAll)
		case "marked":
			return r.lex.add(name, r.capital, kindPlace, flagMarked, inflectAll)
		case "street":
			return r.lex.add(name, r.capital, kindStreet, 0, inflectAdjOnly)
		}
		return fmt.Errorf("unknown kind %q", k)
	})
}

func readLines(path string, fn func(string) error) error {
	b, err := dataFiles.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if err := fn(line); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}

// Resolve returns the municipality of an appeal. method says how ("oktmo", "coords", "hint", "text",
// "agency"); ok=false means undetermined (caller stores it as model.Unresolved with empty OKTMO).
// Each step is tried only when the previous ones say nothing, in the order of how much they can be
// trusted: codes and coordinates come from systems, names from people.
func (r *Resolver) Resolve(a *model.Appeal) (m geo.Municipality, method string, ok bool) {
	if i, ok := r.byOKTMO(a.Hints.OKTMO); ok {
		return r.muns[i], MethodOKTMO, true
	}
	if i, ok := r.byCoords(a.Lat, a.Lon); ok {
		return r.muns[i], MethodCoords, true
	}
	if i, ok := r.byHint(a.Hints.Municipality); ok {
		return r.muns[i], MethodHint, true
	}
	if i, ok := r.match(a.Text, classPlace); ok {
		return r.muns[i], MethodText, true
	}
	for _, agency := range [...]string{a.Hints.Agency, a.Agency} {
		if i, ok := r.byAgency(agency); ok {
			return r.muns[i], MethodAgency, true
		}
	}
	return geo.Municipality{}, "", false
}

func (r *Resolver) byOKTMO(code string) (int, bool) {
	code = strings.TrimSpace(code)
	if len(code) != 8 && len(code) != 11 {
		return -1, false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return -1, false
		}
	}
	m, err := r.g.ByOKTMO(code)
	if err != nil {
		return -1, false
	}
	return r.index(m.OKTMO)
}

func (r *Resolver) index(oktmo string) (int, bool) {
	for i := range r.muns {
		if r.muns[i].OKTMO == oktmo {
			return i, true
		}
	}
	return -1, false
}

// byHint reads a source's place field: whole-field spellings first («Рязанский», which in a text would
// be too vague), then the text rules without the weakest class.
func (r *Resolver) byHint(h string) (int, bool) {
	if strings.TrimSpace(h) == "" {
		return -1, false
	}
	if i, ok := r.hints[normalize(h)]; ok {
		return i, true
	}
	return r.match(h, className)
}

// byAgency reads an agency's name: territorial administrations name their municipality
// («Администрация Шиловского муниципального района», «Префектура Советского района», «Администрация
// города Сасово», «Сараевская администрация»). Capital streets are not accepted: agencies have no addresses in their
// names, and sectoral agencies («Управление благоустройства города») name no territory.
func (r *Resolver) byAgency(agency string) (int, bool) {
	if strings.TrimSpace(agency) == "" {
		return -1, false
	}
	return r.match(agency, className)
}
