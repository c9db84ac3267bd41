package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/teplokarta/teplokarta/processor/classify"
)

// The hand-written encoder must write exactly what json.Marshal writes: on every portal text the
// classifier sees, and on the strings, ids and numbers where JSON escaping and float formatting have
// their corner cases.
func TestClassifyOutJSONMatchesMarshal(t *testing.T) {
	c, err := loadClassifier("", "", "")
	if err != nil {
		t.Fatal(err)
	}
	var outs []classifyOut
	texts := append([]string{"В аптеках нет масок из-за коронавируса", "яма", "В Шилово на улице Спасской яма"}, portalTexts(t)...)
	for i, text := range texts {
		outs = append(outs, c.one(json.RawMessage(`"p-`+strconv.Itoa(i)+`"`), text))
	}
	tricky := []string{"", "plain", `quote " and \ backslash`, "<script>&amp;", "tab\tnew\nline\x01", "\u2028\u2029",
		"em — dash № 5", "bad \xff utf8", "\xe2\x80", "ё Ё €", "\x7f", "обрыв \xd0", "\xd0 пробел", "я\xd1\xffя", "\xd1\x80\xd0"}
	ids := []string{`"x"`, `12`, `-1.5e3`, `null`, `""`, `{ "a" : [1, 2] }`, `"<tag>&"`, `"\u2028"`, `"é\u00e9"`, `[ ]`}
	floats := []float32{0, 1, 0.5, 1e-6, 9.99e-7, 1e-7, 1.5e-10, 0.1, 1.0 / 3, 1e20, 1e21, -0.25, math.SmallestNonzeroFloat32}
	for i, s := range tricky {
		o := outs[i%len(outs)]
		o.ID = json.RawMessage(ids[i%len(ids)])
		o.Category, o.Theme, o.Municipality, o.Rule = s, s+"x", "«"+s+"»", s
		o.Confidence, o.ThemeConfidence = floats[i%len(floats)], floats[(i+5)%len(floats)]
		o.Top3.Theme = []classify.Label{{Name: s, Conf: floats[(i+3)%len(floats)]}}
		o.Top3.Executor = nil
		outs = append(outs, o)
	}
	for i, id := range ids {
		o := outs[0]
		o.ID, o.ExecutorConfidence = json.RawMessage(id), floats[i%len(floats)]
		outs = append(outs, o)
	}
	for i, o := range outs {
		want, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		got, err := o.appendJSON([]byte("prefix"))
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("case %d:\n got %s\nwant prefix%s", i, got, want)
		}
	}
	o := outs[0]
	o.Top3.Category = []classify.Label{{Name: "x", Conf: float32(math.NaN())}}
	if _, err := json.Marshal(o); err == nil {
		t.Fatal("json.Marshal accepted NaN; the encoder's error path no longer mirrors it")
	}
	if _, err := o.appendJSON(nil); !errors.Is(err, errNotFinite) {
		t.Fatalf("NaN confidence: err %v, want errNotFinite", err)
	}
}
