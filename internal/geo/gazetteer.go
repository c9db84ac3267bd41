// Package geo is the municipality gazetteer: the reference list of a region's municipal formations with
// their OKTMO codes, Russian names, display coordinates and, where known, population.
package geo

import (
	"bytes"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

//go:embed data/*.csv
var data embed.FS

// Kinds of municipal formation.
const (
	KindUrbanOkrug = "urban_okrug"
	KindDistrict   = "district"
)

// Municipality is one municipal formation of a region.
type Municipality struct {
	Region     string // ISO 3166-2, e.g. RU-RYA
	OKATO      string // 3-digit code inside the region
	OKTMO      string // 8 digits
	Name       string // "Рязань", "Шиловский"
	Kind       string // urban_okrug | district
	Centre     string // administrative centre
	Lat, Lon   float64
	Population int // 0 = unknown
}

// DisplayName is the name a person expects on a map: "Шиловский район" for districts.
func (m Municipality) DisplayName() string {
	if m.Kind == KindDistrict {
		return m.Name + " район"
	}
	return m.Name
}

// Gazetteer answers lookups over the municipalities of one or more regions.
type Gazetteer struct {
	list    []Municipality
	byOKTMO map[string]int
}

// ErrUnknownOKTMO is returned for a code the gazetteer does not know.
var ErrUnknownOKTMO = errors.New("geo: unknown OKTMO")

// Default returns the gazetteer of the default region (Ryazan oblast), built from the reference files
// embedded in the binary (copied from the shared geo data; see data/).
func Default() *Gazetteer {
	mun, _ := data.ReadFile("data/ryazan-municipalities.csv")
	towns, _ := data.ReadFile("data/ryazan-towns-hflabs.csv")
	g, err := Parse("RU-RYA", bytes.NewReader(mun), bytes.NewReader(towns))
	if err != nil {
		panic(fmt.Sprintf("geo: embedded reference data is broken: %v", err)) // a build defect, not input
	}
	return g
}

// LoadFile builds a gazetteer for a region from a municipalities CSV in the same format as the embedded
// one (okato,oktmo,name,kind,centre,lat,lon[,coord_source][,population]).
func LoadFile(region, path string) (*Gazetteer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geo: %w", err)
	}
	defer f.Close()
	return Parse(region, f, nil)
}

// Parse reads a municipalities CSV and, optionally, an hflabs towns CSV whose populations fill in the
// urban okrugs (a town's OKTMO starts with its okrug's 8-digit code).
func Parse(region string, municipalities, towns io.Reader) (*Gazetteer, error) {
	rows, err := readCSV(municipalities)
	if err != nil {
		return nil, err
	}
	g := &Gazetteer{byOKTMO: map[string]int{}}
	for i, r := range rows {
		if i == 0 {
			continue
		}
		if len(r) < 7 {
			return nil, fmt.Errorf("geo: line %d: want at least 7 columns, got %d", i+1, len(r))
		}
		lat, err1 := strconv.ParseFloat(r[5], 64)
		lon, err2 := strconv.ParseFloat(r[6], 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("geo: line %d: %w", i+1, err)
		}
		m := Municipality{Region: region, OKATO: r[0], OKTMO: r[1], Name: r[2], Kind: r[3], Centre: r[4], Lat: lat, Lon: lon}
		if len(r) > 8 && r[8] != "" {
			m.Population, _ = strconv.Atoi(r[8])
		}
		g.byOKTMO[m.OKTMO] = len(g.list)
		g.list = append(g.list, m)
	}
	if towns != nil {
		if err := g.addTownPopulation(towns); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (g *Gazetteer) addTownPopulation(r io.Reader) error {
	rows, err := readCSV(r)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	oi, ok1 := col["oktmo"]
	pi, ok2 := col["population"]
	if !ok1 || !ok2 {
		return errors.New("geo: towns file lacks oktmo/population columns")
	}
	for _, t := range rows[1:] {
		if len(t[oi]) < 8 {
			continue
		}
		idx, ok := g.byOKTMO[t[oi][:8]]
		if !ok || g.list[idx].Kind != KindUrbanOkrug || g.list[idx].Population != 0 {
			continue // a town inside a district is not the district's population
		}
		g.list[idx].Population, _ = strconv.Atoi(t[pi])
	}
	return nil
}

func readCSV(r io.Reader) ([][]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("geo: %w", err)
	}
	return rows, nil
}

// All returns the municipalities sorted by OKTMO.
func (g *Gazetteer) All() []Municipality {
	out := append([]Municipality(nil), g.list...)
	sort.Slice(out, func(i, j int) bool { return out[i].OKTMO < out[j].OKTMO })
	return out
}

// ByOKTMO finds a municipality by its 8-digit code; longer settlement codes (11 digits) resolve to their
// municipality.
func (g *Gazetteer) ByOKTMO(code string) (Municipality, error) {
	code = strings.TrimSpace(code)
	if len(code) > 8 {
		code = code[:8]
	}
	if i, ok := g.byOKTMO[code]; ok {
		return g.list[i], nil
	}
	return Municipality{}, fmt.Errorf("%w: %q", ErrUnknownOKTMO, code)
}

// Name returns the display name for a code, or model's "не определено" wording for unknown ones.
func (g *Gazetteer) Name(code string) string {
	if m, err := g.ByOKTMO(code); err == nil {
		return m.DisplayName()
	}
	return "не определено"
}
