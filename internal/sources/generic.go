package sources

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/pii"
)

// Paths is one or more dotted paths into a JSON document ("ticket.body", "items.0.url"). In YAML it is a
// single string or a list.
type Paths []string

// UnmarshalYAML accepts a scalar or a sequence (gopkg.in/yaml.v3's interface, kept structural so this
// package does not import yaml).
func (p *Paths) UnmarshalYAML(unmarshal func(any) error) error {
	var one string
	if err := unmarshal(&one); err == nil {
		*p = Paths{one}
		return nil
	}
	var many []string
	if err := unmarshal(&many); err != nil {
		return err
	}
	*p = many
	return nil
}

// GenericMapping says where a configured source's JSON keeps each field of the appeal. ID, Text and
// EventTime are required; the rest are optional hints.
type GenericMapping struct {
	ID           string `yaml:"id"`
	Text         Paths  `yaml:"text"` // several paths are joined with ". " (subject + body)
	EventTime    string `yaml:"event_time"`
	TimeFormat   string `yaml:"time_format"` // "" (RFC 3339 and the usual local layouts, Moscow time), unix, unix_ms, or a Go layout
	Address      Paths  `yaml:"address"`
	Lat          string `yaml:"lat"`
	Lon          string `yaml:"lon"`
	URL          string `yaml:"url"`
	Author       string `yaml:"author"` // hashed with the identity key, never kept
	Attachments  string `yaml:"attachments"`
	OKTMO        string `yaml:"oktmo"`
	Municipality string `yaml:"municipality"`
	Category     string `yaml:"category"`
	Theme        string `yaml:"theme"`
	Agency       string `yaml:"agency"`
	Status       string `yaml:"status"`
	Deadline     string `yaml:"deadline"`
}

var sourceName = regexp.MustCompile(`^[a-z][a-z0-9_]{1,31}$`)

// ValidSourceName says whether a configured source name is usable in topic names, keys and metric labels.
func ValidSourceName(name string) bool { return sourceName.MatchString(name) }

// Validate checks the mapping.
func (m GenericMapping) Validate() error {
	var errs []error
	if m.ID == "" {
		errs = append(errs, errors.New("mapping.id is required"))
	}
	if len(m.Text) == 0 {
		errs = append(errs, errors.New("mapping.text is required"))
	}
	if m.EventTime == "" {
		errs = append(errs, errors.New("mapping.event_time is required"))
	}
	return errors.Join(errs...)
}

// Generic parses the JSON of a source that is connected by configuration only.
type Generic struct {
	common
	name string
	m    GenericMapping
}

// NewGeneric builds the parser of a configured source.
func NewGeneric(name string, m GenericMapping, key string, lim Limits) (*Generic, error) {
	if !ValidSourceName(name) {
		return nil, fmt.Errorf("generic source %q: name must match %s", name, sourceName)
	}
	for _, k := range model.KnownSources {
		if name == k {
			return nil, fmt.Errorf("generic source %q: name of a built-in source", name)
		}
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("generic source %q: %w", name, err)
	}
	return &Generic{common: common{ids: pii.NewIdentityHasher(key), lim: lim}, name: name, m: m}, nil
}

// Source implements Parser.
func (g *Generic) Source() string { return g.name }

// Parse implements Parser.
func (g *Generic) Parse(payload []byte, meta Meta) (*model.Appeal, error) {
	body, err := g.front(g.name, payload, meta.ContentType)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := decodeUntypedJSON(body, &doc); err != nil {
		return nil, invalid(g.name, "bad_json", "%v", err)
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, invalid(g.name, "wrong_type", "top level is not an object")
	}
	str := func(path string) (string, error) { return g.str(doc, path) }
	a := &model.Appeal{}
	if a.SourceID, err = str(g.m.ID); err != nil {
		return nil, err
	}
	if a.Text, err = g.join(doc, g.m.Text, ". "); err != nil {
		return nil, err
	}
	if a.Address, err = g.join(doc, g.m.Address, ", "); err != nil {
		return nil, err
	}
	fields := []struct {
		path string
		dst  *string
	}{{g.m.URL, &a.URL}, {g.m.OKTMO, &a.Hints.OKTMO}, {g.m.Municipality, &a.Hints.Municipality},
		{g.m.Category, &a.Hints.Category}, {g.m.Theme, &a.Hints.Theme}, {g.m.Agency, &a.Hints.Agency}, {g.m.Status, &a.Hints.Status}}
	for _, f := range fields {
		if *f.dst, err = str(f.path); err != nil {
			return nil, err
		}
	}
	author, err := str(g.m.Author)
	if err != nil {
		return nil, err
	}
	if author != "" {
		a.AuthorHash = g.hash(g.name + ":" + author)
	}
	if a.Lat, err = g.num(doc, g.m.Lat); err != nil {
		return nil, err
	}
	if a.Lon, err = g.num(doc, g.m.Lon); err != nil {
		return nil, err
	}
	if a.Attachments, err = g.list(doc, g.m.Attachments); err != nil {
		return nil, err
	}
	if a.EventTime, err = g.time(doc, g.m.EventTime); err != nil {
		return nil, err
	}
	if a.Hints.Deadline, err = g.time(doc, g.m.Deadline); err != nil {
		return nil, err
	}
	if !a.Hints.Deadline.IsZero() {
		a.Hints.Deadline = a.Hints.Deadline.UTC()
	}
	if err := g.check(g.name, body, a, meta); err != nil {
		return nil, err
	}
	return a, nil
}

// lookup walks a dotted path; numeric segments index arrays. Missing → nil.
func lookup(doc any, path string) any {
	if path == "" {
		return nil
	}
	cur := doc
	for _, seg := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}

func (g *Generic) str(doc any, path string) (string, error) {
	switch v := lookup(doc, path).(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(v), nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	default:
		return "", invalid(g.name, "wrong_type", "%s: want a string or number, got %T", path, v)
	}
}

func (g *Generic) join(doc any, paths Paths, sep string) (string, error) {
	var parts []string
	for _, p := range paths {
		s, err := g.str(doc, p)
		if err != nil {
			return "", err
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, sep), nil
}

func (g *Generic) num(doc any, path string) (float64, error) {
	switch v := lookup(doc, path).(type) {
	case nil:
		return 0, nil
	case json.Number:
		return v.Float64()
	case string:
		f, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(v), ",", "."), 64)
		if err != nil {
			return 0, invalid(g.name, "wrong_type", "%s: %q is not a number", path, v)
		}
		return f, nil
	default:
		return 0, invalid(g.name, "wrong_type", "%s: want a number, got %T", path, v)
	}
}

func (g *Generic) list(doc any, path string) ([]string, error) {
	switch v := lookup(doc, path).(type) {
	case nil:
		return nil, nil
	case string:
		return nonEmpty(v), nil
	case []any:
		var out []string
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, invalid(g.name, "wrong_type", "%s: want strings, got %T", path, e)
			}
			out = append(out, nonEmpty(s)...)
		}
		return out, nil
	default:
		return nil, invalid(g.name, "wrong_type", "%s: want a list of links, got %T", path, v)
	}
}

func (g *Generic) time(doc any, path string) (time.Time, error) {
	raw := lookup(doc, path)
	if raw == nil {
		return time.Time{}, nil
	}
	switch g.m.TimeFormat {
	case "unix", "unix_ms":
		n, ok := raw.(json.Number)
		if !ok {
			return time.Time{}, invalid(g.name, "wrong_type", "%s: want a number (%s), got %T", path, g.m.TimeFormat, raw)
		}
		i, err := n.Int64()
		if err != nil {
			return time.Time{}, invalid(g.name, "wrong_type", "%s: %v", path, err)
		}
		if g.m.TimeFormat == "unix_ms" {
			return time.UnixMilli(i), nil
		}
		return time.Unix(i, 0), nil
	}
	s, ok := raw.(string)
	if !ok {
		return time.Time{}, invalid(g.name, "wrong_type", "%s: want a time string, got %T", path, raw)
	}
	var t time.Time
	var err error
	if g.m.TimeFormat == "" || g.m.TimeFormat == "rfc3339" {
		t, err = parseTime(s)
	} else {
		t, err = time.ParseInLocation(g.m.TimeFormat, strings.TrimSpace(s), moscow)
	}
	if err != nil {
		return time.Time{}, invalid(g.name, "bad_time", "%s: %v", path, err)
	}
	return t, nil
}
