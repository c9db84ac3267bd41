// Package route decides which agency answers an appeal by combining the classifier's executor and
// category with the municipality the resolver found. The decision table is a YAML file curators edit
// (deploy/routing.yaml; an identical copy is embedded here as the default).
package route

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/processor/classify"
)

//go:embed routing.yaml
var defaultTable []byte

// ErrBadTable marks a routing file that cannot be used; the message names the offending entry.
var ErrBadTable = errors.New("route: bad routing table")

// Table is the YAML routing file. See deploy/routing.yaml for the meaning of each field.
type Table struct {
	Version         int               `yaml:"version"`
	CityOKTMO       string            `yaml:"city_oktmo"`
	Threshold       float32           `yaml:"threshold"`
	Territorial     []string          `yaml:"territorial"`
	Administrations map[string]string `yaml:"administrations"`
	CityAgencies    []string          `yaml:"city_agencies"`
	CityDefaults    map[string]string `yaml:"city_defaults"`
}

// Validate reports a table that cannot route.
func (t *Table) Validate() error {
	switch {
	case t.Version != 1:
		return fmt.Errorf("%w: version %d: want 1", ErrBadTable, t.Version)
	case len(t.CityOKTMO) != 8:
		return fmt.Errorf("%w: city_oktmo %q: want 8 digits", ErrBadTable, t.CityOKTMO)
	case !(t.Threshold > 0 && t.Threshold <= 1):
		return fmt.Errorf("%w: threshold %v: want 0 < threshold <= 1", ErrBadTable, t.Threshold)
	case t.CityDefaults["*"] == "":
		return fmt.Errorf("%w: city_defaults needs a \"*\" entry", ErrBadTable)
	}
	for code, name := range t.Administrations {
		if len(code) != 8 || strings.TrimSpace(name) == "" {
			return fmt.Errorf("%w: administrations[%q] = %q: want an 8-digit OKTMO and a name", ErrBadTable, code, name)
		}
	}
	return nil
}

// Router applies a Table. It is immutable and safe for concurrent use.
type Router struct {
	t           Table
	territorial map[string]bool
	city        map[string]bool
	admins      map[string]bool
}

// New compiles a validated table.
func New(t Table) (*Router, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	r := &Router{t: t, territorial: set(t.Territorial), city: set(t.CityAgencies), admins: map[string]bool{}}
	for _, a := range t.Administrations {
		r.admins[a] = true
	}
	return r, nil
}

func set(ss []string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[s] = true
	}
	return m
}

// Parse reads a routing YAML document.
func Parse(data []byte) (*Router, error) {
	var t Table
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadTable, err)
	}
	return New(t)
}

// Load reads a routing file; an empty path gives the embedded default.
func Load(path string) (*Router, error) {
	if path == "" {
		return Parse(defaultTable)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("route: %w", err)
	}
	r, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// DefaultYAML returns the embedded routing file.
func DefaultYAML() []byte { return bytes.Clone(defaultTable) }

// Route returns the agency for a prediction about an appeal in municipality m (resolved says whether m is
// known) and the confidence of that choice.
func (r *Router) Route(pred classify.Prediction, m geo.Municipality, resolved bool) (agency string, conf float32) {
	exec, conf := pred.Executor.Name, pred.Executor.Conf
	if !resolved || m.OKTMO == "" {
		return exec, conf
	}
	if m.OKTMO == r.t.CityOKTMO {
		if r.isAdmin(exec) {
			a, ok := r.t.CityDefaults[pred.Category.Name]
			if !ok {
				a = r.t.CityDefaults["*"]
			}
			return a, pred.Category.Conf
		}
		return exec, conf
	}
	admin, ok := r.t.Administrations[m.OKTMO]
	if !ok {
		return exec, conf // a municipality the table does not know: nothing better to say
	}
	if exec == admin {
		return exec, conf
	}
	if pt := r.territorialProb(pred); pt >= r.t.Threshold {
		return admin, pt
	}
	if r.isCityOnly(exec) || r.isAdmin(exec) {
		return admin, conf
	}
	return exec, conf
}

// territorialProb is the probability mass the top-3 categories put on territorial ones.
func (r *Router) territorialProb(pred classify.Prediction) float32 {
	var p float32
	for _, l := range pred.Top3.Category {
		if r.territorial[l.Name] {
			p += l.Conf
		}
	}
	if len(pred.Top3.Category) == 0 && r.territorial[pred.Category.Name] {
		p = pred.Category.Conf
	}
	return min(p, 1)
}

// isCityOnly says whether any of the executor's agencies (the portal joins several with "; ") exists
// only in Ryazan city.
func (r *Router) isCityOnly(exec string) bool {
	return slices.ContainsFunc(strings.Split(exec, "; "), func(a string) bool { return r.city[a] })
}

func (r *Router) isAdmin(exec string) bool {
	return slices.ContainsFunc(strings.Split(exec, "; "), func(a string) bool { return r.admins[a] })
}
