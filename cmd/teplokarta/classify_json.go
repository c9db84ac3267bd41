package main

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/teplokarta/teplokarta/processor/classify"
)

// errNotFinite: JSON has no NaN or infinity; json.Marshal refuses them too.
var errNotFinite = errors.New("confidence is not a finite number")

// appendJSON appends o as json.Marshal writes it, byte for byte (TestClassifyOutJSONMatchesMarshal
// holds it to that), without reflection: on the portal's texts encoding was a twelfth of the command's
// CPU.
func (o *classifyOut) appendJSON(b []byte) ([]byte, error) {
	id, err := json.Marshal(o.ID) // validates and compacts the caller's id, escaping as Marshal does
	if err != nil {
		return b, err
	}
	b = append(b, `{"id":`...)
	b = append(b, id...)
	b = appendField(b, "category", o.Category)
	b = appendField(b, "theme", o.Theme)
	b = appendField(b, "executor", o.Executor)
	b = appendField(b, "oktmo", o.OKTMO)
	b = appendField(b, "municipality", o.Municipality)
	for _, f := range []struct {
		name string
		v    float32
	}{{"confidence", o.Confidence}, {"theme_confidence", o.ThemeConfidence}, {"executor_confidence", o.ExecutorConfidence}} {
		b = append(b, `,"`...)
		b = append(b, f.name...)
		b = append(b, `":`...)
		if b, err = appendFloat32(b, f.v); err != nil {
			return b, err
		}
	}
	b = append(b, `,"top3":{"category":`...)
	if b, err = appendLabels(b, o.Top3.Category); err != nil {
		return b, err
	}
	b = append(b, `,"theme":`...)
	if b, err = appendLabels(b, o.Top3.Theme); err != nil {
		return b, err
	}
	b = append(b, `,"executor":`...)
	if b, err = appendLabels(b, o.Top3.Executor); err != nil {
		return b, err
	}
	b = append(b, '}')
	if o.Rule != "" {
		b = appendField(b, "rule", o.Rule)
	}
	return append(b, '}'), nil
}

func appendField(b []byte, name, v string) []byte {
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return appendString(b, v)
}

func appendLabels(b []byte, ls []classify.Label) ([]byte, error) {
	if ls == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendString(b, l.Name)
		b = append(b, `,"conf":`...)
		var err error
		if b, err = appendFloat32(b, l.Conf); err != nil {
			return b, err
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// appendString copies a string that needs no escaping as it is (the labels and names: Cyrillic letters,
// spaces, punctuation) and leaves any other to json.Marshal, whose escaping (HTML characters, control
// characters, invalid UTF-8, U+2028/2029) it must match.
func appendString(b []byte, s string) []byte {
	if needsEscape(s) {
		q, _ := json.Marshal(s) // a string always encodes
		return append(b, q...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// needsEscape: json.Marshal would write s other than verbatim between quotes.
func needsEscape(s string) bool {
	checked := true // valid UTF-8 so far without decoding: ASCII and two-byte Cyrillic letters
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return true
		case (c == 0xD0 || c == 0xD1) && i+1 < len(s) && s[i+1]&0xC0 == 0x80:
			i++
		case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9): // U+2028, U+2029
			return true
		case c >= 0x80:
			checked = false
		}
	}
	return !checked && !utf8.ValidString(s)
}

// appendFloat32 formats f as json.Marshal formats a float32: the shortest decimal that reads back as
// f, in exponent form below 1e-6 and from 1e21 on, with a one-digit negative exponent unpadded.
func appendFloat32(b []byte, f float32) ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return b, errNotFinite
	}
	format := byte('f')
	if abs := float32(math.Abs(float64(f))); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, float64(f), format, -1, 32)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}
