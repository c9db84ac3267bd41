package sources

import (
	"mime"
	"strings"
	"testing"
)

// TestCharset checks Charset's answers, and that its shortcut for a Content-Type without parameters
// answers as parsing the whole value does, malformed values included.
func TestCharset(t *testing.T) {
	parsed := func(ct string) string {
		_, params, err := mime.ParseMediaType(ct)
		if err != nil {
			return ""
		}
		return strings.ToLower(strings.TrimSpace(params["charset"]))
	}
	for _, tc := range []struct{ ct, want string }{
		{"", ""},
		{"application/json", ""},
		{"APPLICATION/JSON", ""},
		{"application/json; charset=utf-8", "utf-8"},
		{"application/json;charset=UTF-8", "utf-8"},
		{"application/json; charset=windows-1251", "windows-1251"},
		{`text/plain; charset="cp1251"`, "cp1251"},
		{"application/json; charset", ""},
		{"application/json charset=utf-8", ""},
		{"/json", ""},
		{"charset=utf-8", ""},
		{"application/json; foo=bar", ""},
		{"text/плохой", ""},
	} {
		if got := Charset(tc.ct); got != tc.want || got != parsed(tc.ct) {
			t.Errorf("Charset(%q) = %q, want %q (parsed whole: %q)", tc.ct, got, tc.want, parsed(tc.ct))
		}
	}
}
