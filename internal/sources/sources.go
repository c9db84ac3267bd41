// Package sources parses each source system's raw message (the bytes ingest puts on Kafka unchanged) into
// a model.Appeal. Ingest uses it to validate before producing; the processor uses it to normalize. One
// parser per source; a Registry maps source names to parsers.
package sources

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/pii"
)

// ErrInvalid marks input that can never be parsed: it belongs in the dead-letter topic, not in a retry.
var ErrInvalid = errors.New("invalid message")

// InvalidError says why a message was rejected. Reason is a short stable code for metrics labels
// (bad_json, missing_field, bad_time, …); Detail is for people.
type InvalidError struct {
	Source string
	Reason string
	Detail string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Source, e.Reason, e.Detail)
}

// Unwrap lets callers test errors.Is(err, ErrInvalid).
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Reason returns the stable reason code of an invalid-message error, or "internal" for anything else.
func Reason(err error) string {
	var ie *InvalidError
	if errors.As(err, &ie) {
		return ie.Reason
	}
	return "internal"
}

func invalid(source, reason, format string, args ...any) error {
	return &InvalidError{Source: source, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Meta is what ingest knows about a message besides its bytes.
type Meta struct {
	ReceivedAt  time.Time
	ContentType string
}

// Parser turns one raw message of a source into an appeal (text not yet masked; the processor masks it).
type Parser interface {
	Source() string
	Parse(payload []byte, meta Meta) (*model.Appeal, error)
}

// Limits shared by every parser.
type Limits struct {
	MaxBytes    int           // default 256 KiB
	MaxTextRune int           // default 20,000
	MinTime     time.Time     // default 2000-01-01
	MaxSkew     time.Duration // how far in the future an event time may be; default 10 min
}

// DefaultLimits are the documented defaults.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 256 << 10, MaxTextRune: 20000, MinTime: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), MaxSkew: 10 * time.Minute}
}

// Registry maps source names to parsers.
type Registry struct {
	parsers map[string]Parser
}

// NewRegistry builds a registry; a later parser with the same name replaces an earlier one.
func NewRegistry(ps ...Parser) *Registry {
	r := &Registry{parsers: map[string]Parser{}}
	for _, p := range ps {
		r.parsers[p.Source()] = p
	}
	return r
}

// Default returns the four built-in sources. key is the HMAC key of the hashes of authors and callers
// (pii.ResolveKey decides which key a program may use): the same person hashes the same way across
// sources (for dedup) but cannot be looked up without the key.
func Default(key string, lim Limits) *Registry {
	c := common{ids: pii.NewIdentityHasher(key), lim: lim}
	return NewRegistry(&VK{c}, &NashDom{c}, &Sys112{c}, &POS{c})
}

// Add registers a parser (e.g. a configured generic source).
func (r *Registry) Add(p Parser) { r.parsers[p.Source()] = p }

// Get returns the parser of a source.
func (r *Registry) Get(source string) (Parser, bool) {
	p, ok := r.parsers[source]
	return p, ok
}

// Names lists the registered sources, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.parsers))
	for n := range r.parsers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Parse parses with the source's parser; an unknown source is invalid input.
func (r *Registry) Parse(source string, payload []byte, meta Meta) (*model.Appeal, error) {
	p, ok := r.parsers[source]
	if !ok {
		return nil, invalid(source, "unknown_source", "no parser for source %q", source)
	}
	return p.Parse(payload, meta)
}

// common holds what every built-in parser shares: limits and the keyed identity hashing.
type common struct {
	ids *pii.IdentityHasher
	lim Limits
}

// HashIdentity is the keyed hash stored instead of a person's identity (phone, account id, name); it is
// processor/pii.HashIdentity, the one definition.
func HashIdentity(key, identity string) string { return pii.HashIdentity(key, identity) }

func (c common) hash(identity string) string { return c.ids.Hash(identity) }

// check applies the shared rules to a parsed appeal.
func (c common) check(source string, payload []byte, a *model.Appeal, meta Meta) error {
	if len(payload) > c.lim.MaxBytes {
		return invalid(source, "oversize", "%d bytes, limit %d", len(payload), c.lim.MaxBytes)
	}
	if a.SourceID == "" {
		return invalid(source, "missing_field", "no source id")
	}
	if strings.TrimSpace(a.Text) == "" {
		return invalid(source, "missing_field", "empty text")
	}
	if !utf8.ValidString(a.Text) {
		return invalid(source, "bad_encoding", "text is not valid UTF-8")
	}
	if len(a.Text) > c.lim.MaxTextRune { // no more bytes than the limit is no more runes either: not counted
		if n := utf8.RuneCountInString(a.Text); n > c.lim.MaxTextRune {
			return invalid(source, "oversize", "text has %d characters, limit %d", n, c.lim.MaxTextRune)
		}
	}
	if isHTMLSoup(a.Text) {
		return invalid(source, "html", "text is HTML markup, not prose")
	}
	if a.EventTime.IsZero() {
		return invalid(source, "missing_field", "no event time")
	}
	if err := c.checkDeadline(source, a.Hints.Deadline); err != nil {
		return err
	}
	if a.EventTime.Before(c.lim.MinTime) {
		return invalid(source, "bad_time", "event time %s before %s", a.EventTime.Format(time.RFC3339), c.lim.MinTime.Format("2006-01-02"))
	}
	now := meta.ReceivedAt
	if now.IsZero() {
		now = time.Now()
	}
	if a.EventTime.After(now.Add(c.lim.MaxSkew)) {
		return invalid(source, "bad_time", "event time %s is in the future (received %s)", a.EventTime.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	a.Source = source
	a.ID = model.AppealID(source, a.SourceID)
	a.ReceivedTime = meta.ReceivedAt
	if a.Region == "" {
		a.Region = model.DefaultRegion
	}
	a.EventTime = a.EventTime.UTC()
	a.Text = strings.TrimSpace(a.Text)
	return nil
}

// checkDeadline refuses a stated deadline that no column could hold and no status event could carry
// (a year before 0 or after 9999 in UTC fails JSON): one before the limits' MinTime or after
// model.MaxDateTime. The zero time is no deadline.
func (c common) checkDeadline(source string, d time.Time) error {
	if d.IsZero() || !d.Before(c.lim.MinTime) && !d.After(model.MaxDateTime) {
		return nil
	}
	return invalid(source, "bad_time", "deadline %s is outside %s … %s", d.Format(time.RFC3339),
		c.lim.MinTime.Format("2006-01-02"), model.MaxDateTime.Format("2006-01-02"))
}

// parseTime accepts RFC 3339 and the few local layouts the sources use (Moscow time when no zone).
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	for _, l := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "02.01.2006 15:04:05", "02.01.2006 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(l, s, moscow); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", s)
}

// moscow is UTC+3 without DST (Russia since 2014); a fixed zone avoids depending on tzdata.
var moscow = time.FixedZone("MSK", 3*3600)

// decodeJSON decodes exactly one JSON value into a typed message: trailing data after it ("{…}{…}",
// "{…} junk") is an error, because a second object glued to the first is a sender bug that would otherwise
// vanish silently. jsonv2.Unmarshal refuses it itself, with no Decoder buffer to allocate.
func decodeJSON(body []byte, v any) error {
	opts := typedJSON
	if holdsNumber(reflect.TypeOf(v)) {
		opts = typedJSONNumbers
	}
	return jsonv2.Unmarshal(body, v, opts)
}

// typedJSON has go-json-experiment (the upstream of encoding/json/v2) decode the typed payloads as
// encoding/json did, about twice as fast: encoding/json validates the whole input in a pass of its own
// before decoding it, and is slow at skipping the many members of a VK event that teplokarta does not keep.
// DefaultOptionsV1 is the whole of encoding/json's semantics, so that which messages parse and what they
// parse to stay the same: names matched case-insensitively, duplicate names allowed (the last one wins),
// null leaving a field as it was, a lone escaped surrogate ("\ud800") read as U+FFFD instead of refused.
// ReportErrorsWithLegacySemantics is turned back off: it brings back that validation pass, kept in v1
// mode only so that a syntax error late in a message is named instead of a type error early in it, and
// the reshaping of errors into encoding/json's types. A message with either fault is rejected as bad_json
// all the same; the detail names the first fault met, with its JSON path, in encoding/json/v2's words
// ("json: cannot unmarshal JSON string into Go int64 within "/object/id"", "jsontext: unexpected EOF
// within "/text" after offset 84").
var typedJSON = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsonv1.ReportErrorsWithLegacySemantics(false))

// typedJSONNumbers serves the messages with an encoding/json.Number field («Наш дом» and ПОС ids): to jsonv2
// that is a plain string type, into which it refuses a JSON number. The unmarshaler is not in typedJSON
// because with any unmarshaler set, jsonv2 looks one up for every field it decodes (≈5 % of a VK parse).
var typedJSONNumbers = jsonv2.JoinOptions(typedJSON, jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(unmarshalNumber)))

// holdsNumber reports whether a json.Number can be reached from t, that is whether decoding t needs
// typedJSONNumbers. The answer is cached per type: it is asked for every message.
func holdsNumber(t reflect.Type) bool {
	if v, ok := numberHolders.Load(t); ok {
		return v.(bool)
	}
	holds := reaches(t, numberType, map[reflect.Type]bool{})
	numberHolders.Store(t, holds)
	return holds
}

var numberHolders sync.Map // reflect.Type → bool

func reaches(t, want reflect.Type, seen map[reflect.Type]bool) bool {
	if t == want {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return reaches(t.Elem(), want, seen)
	case reflect.Map:
		return reaches(t.Key(), want, seen) || reaches(t.Elem(), want, seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if reaches(t.Field(i).Type, want, seen) {
				return true
			}
		}
	}
	return false
}

// unmarshalNumber decodes an encoding/json.Number as encoding/json does: a number literal as written, a
// string only if it holds a valid number literal, null leaves it as it was, anything else is an error.
func unmarshalNumber(dec *jsontext.Decoder, n *json.Number) error {
	val, err := dec.ReadValue()
	if err != nil {
		return err
	}
	switch k := val.Kind(); k {
	case 'n':
		return nil
	case '0':
		*n = json.Number(val)
		return nil
	case '"':
		s, err := jsontext.AppendUnquote(nil, val)
		if err == nil && isNumberLiteral(s) {
			*n = json.Number(s)
			return nil
		}
		return &jsonv2.SemanticError{JSONKind: k, JSONValue: val.Clone(), GoType: numberType, Err: strconv.ErrSyntax}
	default:
		return &jsonv2.SemanticError{JSONKind: k, GoType: numberType}
	}
}

var numberType = reflect.TypeFor[json.Number]()

// isNumberLiteral reports whether s is exactly one JSON number: a valid JSON value that starts and ends as
// only a number can (no whitespace around it).
func isNumberLiteral(s []byte) bool {
	return len(s) > 0 && (s[0] == '-' || '0' <= s[0] && s[0] <= '9') && '0' <= s[len(s)-1] && s[len(s)-1] <= '9' &&
		jsontext.Value(s).IsValid()
}

// decodeUntypedJSON is decodeJSON for an untyped document (a generic source's), whose numbers must stay
// json.Number: only a Decoder has UseNumber.
func decodeUntypedJSON(body []byte, v *any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
