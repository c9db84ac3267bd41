package sources

import (
	"bytes"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// front applies the checks that come before any decoding: size, encoding and HTML soup. They run first so
// that a 50 MB error page or a cp1251 body mislabelled as UTF-8 is named for what it is instead of
// surfacing as a confusing JSON error. It returns the body as UTF-8 (decoded when the content type names
// a single-byte charset).
func (c common) front(source string, payload []byte, contentType string) ([]byte, error) {
	if len(payload) > c.lim.MaxBytes {
		return nil, invalid(source, "oversize", "%d bytes, limit %d", len(payload), c.lim.MaxBytes)
	}
	body, err := toUTF8(source, payload, contentType)
	if err != nil {
		return nil, err
	}
	if looksLikeHTMLPage(body) {
		return nil, invalid(source, "html", "body is an HTML page, not a message")
	}
	return body, nil
}

// Charset returns the lower-cased charset parameter of a Content-Type, "" when absent or unparsable.
func Charset(contentType string) string {
	if !strings.Contains(contentType, ";") {
		return "" // no parameters ("application/json", as nearly every record says): no charset either
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(params["charset"]))
}

// MediaType returns the lower-cased media type of a Content-Type ("application/json"), "" when absent.
func MediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		if i := strings.IndexByte(contentType, ';'); i >= 0 {
			contentType = contentType[:i]
		}
		return strings.ToLower(strings.TrimSpace(contentType))
	}
	return mt
}

// IsCP1251 says whether a charset name means windows-1251.
func IsCP1251(charset string) bool {
	switch charset {
	case "windows-1251", "cp1251", "x-cp1251", "win-1251", "cp-1251":
		return true
	}
	return false
}

func toUTF8(source string, payload []byte, contentType string) ([]byte, error) {
	cs := Charset(contentType)
	switch {
	case IsCP1251(cs):
		out, err := charmap.Windows1251.NewDecoder().Bytes(payload)
		if err != nil {
			return nil, invalid(source, "bad_encoding", "windows-1251: %v", err)
		}
		return out, nil
	case cs == "" || cs == "utf-8" || cs == "utf8" || cs == "us-ascii":
		payload = bytes.TrimPrefix(payload, []byte("\xef\xbb\xbf"))
		if !utf8.Valid(payload) {
			return nil, invalid(source, "bad_encoding", "body is not valid UTF-8 (label windows-1251 bodies with charset=windows-1251)")
		}
		return payload, nil
	}
	return nil, invalid(source, "bad_encoding", "unsupported charset %q", cs)
}

// looksLikeHTMLPage catches error pages and web forms posted where a message was expected.
func looksLikeHTMLPage(b []byte) bool {
	head := b
	if len(head) > 512 {
		head = head[:512]
	}
	head = bytes.TrimSpace(head)
	if len(head) == 0 || head[0] != '<' {
		return false
	}
	l := strings.ToLower(string(head))
	for _, p := range []string{"<!doctype html", "<html", "<head", "<body", "<div", "<p>", "<table", "<script", "<meta", "<title"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// isHTMLSoup catches texts that are markup rather than prose: copied web pages, forms with tags. A few
// tags in a long text ("<3", "a <b> c") are tolerated; a text whose visible part is mostly tags is not.
func isHTMLSoup(text string) bool {
	tags, tagBytes := 0, 0
	for i := 0; i < len(text); i++ {
		if text[i] != '<' {
			continue
		}
		// Tags are short: looking only 200 bytes ahead keeps a text full of '<' linear.
		j := strings.IndexByte(text[i:min(len(text), i+201)], '>')
		if j < 2 {
			continue
		}
		tag := text[i+1 : i+j]
		if !isTagName(tag) {
			continue
		}
		tags++
		tagBytes += j + 1
		i += j
	}
	if tags < 3 {
		return false
	}
	return tagBytes*100/len(text) >= 25 || hasScript(text)
}

func isTagName(t string) bool {
	t = strings.TrimPrefix(t, "/")
	if t == "" {
		return false
	}
	c := t[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '!') {
		return false
	}
	return true
}

func hasScript(text string) bool {
	l := strings.ToLower(text)
	return strings.Contains(l, "<script") || strings.Contains(l, "<style")
}
