// Package hostile is the hostile-input corpus of issue 14: wrong and mixed encodings, huge fields, deeply
// nested JSON and XML, NUL and control bytes, RTL and emoji, compressed bodies, SQL/ClickHouse injection
// strings, path traversal, dates far in the past or future, wrong JSON types — as request bodies and as
// single values. The cases are committed (corpus/cases.jsonl, written by `TEPLOKARTA_HOSTILE_UPDATE=1 go test
// ./internal/hostile/`) and replayed by the tests of every door: the ingest HTTP API and VK callback
// (ingest/server), every source parser (internal/sources), the SLA API (processor/sla/api) and the Grafana
// plugin's queries and resources (plugin/pkg/plugin).
package hostile

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Case is one hostile input.
type Case struct {
	Name            string `json:"name"`
	Kind            string `json:"kind"` // injection, traversal, date, encoding, huge, nesting, control, rtl_emoji, compressed, structure
	ContentType     string `json:"content_type,omitempty"`
	ContentEncoding string `json:"content_encoding,omitempty"`
	// Repeat describes a large body compactly (the corpus file stays small); Body is built from it.
	Repeat *Repeat `json:"repeat,omitempty"`
	Body   []byte  `json:"-"`
}

// Repeat is the body Head + Unit×N + Mid + Unit2×N2 + Tail.
type Repeat struct {
	Head  string `json:"head,omitempty"`
	Unit  string `json:"unit"`
	N     int    `json:"n"`
	Mid   string `json:"mid,omitempty"`
	Unit2 string `json:"unit2,omitempty"`
	N2    int    `json:"n2,omitempty"`
	Tail  string `json:"tail,omitempty"`
}

// Bytes builds the body.
func (r Repeat) Bytes() []byte {
	var b bytes.Buffer
	b.Grow(len(r.Head) + len(r.Unit)*r.N + len(r.Mid) + len(r.Unit2)*r.N2 + len(r.Tail))
	b.WriteString(r.Head)
	for range r.N {
		b.WriteString(r.Unit)
	}
	b.WriteString(r.Mid)
	for range r.N2 {
		b.WriteString(r.Unit2)
	}
	b.WriteString(r.Tail)
	return b.Bytes()
}

// line is a Case as stored: the body as text when it is valid UTF-8, else base64.
type line struct {
	Case
	Text   *string `json:"body,omitempty"`
	Base64 string  `json:"body_base64,omitempty"`
}

//go:embed corpus/cases.jsonl
var corpus []byte

// Cases returns the committed corpus.
func Cases() ([]Case, error) { return Decode(corpus) }

// String is the body as one value (a filter, a variable, a path segment).
func (c Case) String() string { return string(c.Body) }

// Decode reads JSON lines of cases.
func Decode(b []byte) ([]Case, error) {
	var out []Case
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<20)
	for n := 1; sc.Scan(); n++ {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("hostile corpus line %d: %w", n, err)
		}
		c := l.Case
		switch {
		case c.Repeat != nil:
			c.Body = c.Repeat.Bytes()
		case l.Text != nil:
			c.Body = []byte(*l.Text)
		default:
			body, err := base64.StdEncoding.DecodeString(l.Base64)
			if err != nil {
				return nil, fmt.Errorf("hostile corpus line %d: %w", n, err)
			}
			c.Body = body
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// Encode writes cases as JSON lines.
func Encode(cs []Case) ([]byte, error) {
	var buf bytes.Buffer
	for _, c := range cs {
		l := line{Case: c}
		if c.Repeat != nil {
			// the body is built from Repeat
		} else if isText(c.Body) {
			s := string(c.Body)
			l.Text = &s
		} else {
			l.Base64 = base64.StdEncoding.EncodeToString(c.Body)
		}
		b, err := json.Marshal(l)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// isText reports whether JSON can carry the body as a string unchanged (valid UTF-8; escapes keep control
// bytes and NULs).
func isText(b []byte) bool { return utf8.Valid(b) }
