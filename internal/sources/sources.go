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
	"sort"
	"strings"
	"time"
	"unicode/utf8"

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
	c := common{key: key, lim: lim}
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
	key string
	lim Limits
}

// HashIdentity is the keyed hash stored instead of a person's identity (phone, account id, name); it is
// processor/pii.HashIdentity, the one definition.
func HashIdentity(key, identity string) string { return pii.HashIdentity(key, identity) }

func (c common) hash(identity string) string { return pii.HashIdentity(c.key, identity) }

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
	if n := utf8.RuneCountInString(a.Text); n > c.lim.MaxTextRune {
		return invalid(source, "oversize", "text has %d characters, limit %d", n, c.lim.MaxTextRune)
	}
	if isHTMLSoup(a.Text) {
		return invalid(source, "html", "text is HTML markup, not prose")
	}
	if a.EventTime.IsZero() {
		return invalid(source, "missing_field", "no event time")
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
// vanish silently. json.Unmarshal refuses it itself, with no Decoder buffer to allocate.
func decodeJSON(body []byte, v any) error { return json.Unmarshal(body, v) }

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
