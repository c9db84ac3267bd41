package model

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// AppendJSON appends ev encoded exactly as encoding/json's Marshal encodes it (TestStatusEventAppendJSON
// and FuzzStatusEventAppendJSON compare the two byte for byte). The processor writes a "created" event per
// incident; reflection made that a fortieth of its CPU per message.
func (ev *StatusEvent) AppendJSON(dst []byte) ([]byte, error) {
	for _, t := range [...]time.Time{ev.Deadline, ev.ReceivedTime, ev.EventTime} {
		if y := t.Year(); y < 0 || y > 9999 {
			b, err := json.Marshal(ev) // its error names the field
			return append(dst, b...), err
		}
	}
	dst = append(dst, `{"event_id":`...)
	dst = appendJSONString(dst, ev.EventID)
	dst = append(dst, `,"type":`...)
	dst = appendJSONString(dst, ev.Type)
	dst = append(dst, `,"appeal_id":`...)
	dst = appendJSONString(dst, ev.AppealID)
	for _, f := range [...]struct{ name, v string }{
		{`,"region":`, ev.Region}, {`,"oktmo":`, ev.OKTMO}, {`,"municipality":`, ev.Municipality},
		{`,"category":`, ev.Category}, {`,"theme":`, ev.Theme}, {`,"source":`, ev.Source}, {`,"agency":`, ev.Agency},
		{`,"actor":`, ev.Actor}, {`,"actor_role":`, ev.ActorRole}, {`,"comment":`, ev.Comment},
	} {
		if f.v != "" {
			dst = appendJSONString(append(dst, f.name...), f.v)
		}
	}
	if len(ev.Attachments) > 0 {
		dst = append(dst, `,"attachments":[`...)
		for i, a := range ev.Attachments {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, a)
		}
		dst = append(dst, ']')
	}
	if !ev.Deadline.IsZero() {
		dst = appendJSONTime(append(dst, `,"deadline":`...), ev.Deadline)
	}
	if !ev.ReceivedTime.IsZero() {
		dst = appendJSONTime(append(dst, `,"received_time":`...), ev.ReceivedTime)
	}
	dst = appendJSONTime(append(dst, `,"event_time":`...), ev.EventTime)
	return append(dst, '}'), nil
}

// appendJSONTime is time.Time's MarshalJSON for a year within [0, 9999].
func appendJSONTime(dst []byte, t time.Time) []byte {
	return append(t.AppendFormat(append(dst, '"'), time.RFC3339Nano), '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does with HTML escaping: <, > and & as \u003c…, the
// short escapes \b \f \n \r \t \" \\, other control bytes as \u00XX, U+2028 and U+2029 escaped, and
// each byte of invalid UTF-8 as \ufffd.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(append(dst, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(append(dst, s[start:]...), '"')
}
