package main

import (
	"encoding/json"
	"unicode/utf8"
)

// decodeInput reads one input line into in, as json.Unmarshal does. The lines a producer writes —
// {"id":…,"text":"…"} with a plain string or number id and a text without \u escapes — are parsed here
// directly (json.Unmarshal's validation pass and reflection were a twelfth of the command's CPU); any
// other shape goes to json.Unmarshal, so what the fast path accepts is exactly what Unmarshal would
// make of it (FuzzDecodeInput holds it to that).
func decodeInput(line []byte, in *classifyIn) error {
	if fastDecodeInput(line, in) {
		return nil
	}
	*in = classifyIn{}
	return json.Unmarshal(line, in)
}

func fastDecodeInput(line []byte, in *classifyIn) bool {
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return false
	}
	var id []byte
	var text []byte
	var haveText bool
	for {
		i = skipSpace(line, i+1)
		key, next, ok := plainString(line, i)
		if !ok {
			return false
		}
		i = skipSpace(line, next)
		if i >= len(line) || line[i] != ':' {
			return false
		}
		i = skipSpace(line, i+1)
		switch string(key) {
		case "id":
			if id != nil {
				return false // a repeated key: leave the rules to Unmarshal
			}
			end, ok := plainScalar(line, i)
			if !ok {
				return false
			}
			id, i = line[i:end], end
		case "text":
			if haveText {
				return false
			}
			s, end, ok := textString(line, i)
			if !ok {
				return false
			}
			text, haveText, i = s, true, end
		default:
			return false // other fields, or keys Unmarshal would match case-insensitively
		}
		i = skipSpace(line, i)
		if i >= len(line) {
			return false
		}
		if line[i] == '}' {
			break
		}
		if line[i] != ',' {
			return false
		}
	}
	if skipSpace(line, i+1) != len(line) || !haveText {
		return false
	}
	in.ID = nil
	if id != nil {
		in.ID = append(json.RawMessage(nil), id...) // Unmarshal copies too: the line buffer is reused
	}
	s := string(text)
	in.Text = &s
	return true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string at b[i] that holds no escapes, no control characters and only valid
// UTF-8, so its content is its bytes; it returns the content and the index after the closing quote.
func plainString(b []byte, i int) (s []byte, end int, ok bool) {
	s, end, escaped, ok := scanString(b, i)
	return s, end, ok && !escaped
}

// textString reads a JSON string at b[i] whose escapes, if any, are the one-character ones (\n, \",
// \\, …) and returns its content; \u escapes (surrogate pairs and their repairs) are left to
// json.Unmarshal.
func textString(b []byte, i int) (s []byte, end int, ok bool) {
	raw, end, escaped, ok := scanString(b, i)
	if !ok || !escaped {
		return raw, end, ok
	}
	out := make([]byte, 0, len(raw))
	for k := 0; k < len(raw); k++ {
		c := raw[k]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		k++ // scanString saw a character after every backslash
		switch raw[k] {
		case '"', '\\', '/':
			out = append(out, raw[k])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		default:
			return nil, 0, false
		}
	}
	return out, end, true
}

// scanString finds the JSON string at b[i]: its raw content (escapes as written), the index after the
// closing quote and whether it holds escapes. Control characters and invalid UTF-8 are refused.
func scanString(b []byte, i int) (raw []byte, end int, escaped, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false, false
	}
	checked := true // valid UTF-8 so far without decoding: ASCII and two-byte Cyrillic letters
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			raw = b[i+1 : j]
			if !checked && !utf8.Valid(raw) {
				return nil, 0, false, false
			}
			return raw, j + 1, escaped, true
		case (c == 0xD0 || c == 0xD1) && j+1 < len(b) && b[j+1]&0xC0 == 0x80:
			j++
		case c == '\\':
			if j+1 >= len(b) {
				return nil, 0, false, false
			}
			escaped = true
			j++ // the escaped character is never the closing quote
		case c < 0x20:
			return nil, 0, false, false
		case c >= 0x80:
			checked = false
		}
	}
	return nil, 0, false, false
}

// plainScalar finds the end of a plain string or a JSON number at b[i].
func plainScalar(b []byte, i int) (end int, ok bool) {
	if i < len(b) && b[i] == '"' {
		_, end, ok := plainString(b, i)
		return end, ok
	}
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		j = digits(b, j)
	default:
		return 0, false
	}
	if j < len(b) && b[j] == '.' {
		if k := digits(b, j+1); k > j+1 {
			j = k
		} else {
			return 0, false
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if k := digits(b, j); k > j {
			j = k
		} else {
			return 0, false
		}
	}
	return j, true
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}
