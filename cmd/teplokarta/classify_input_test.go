package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

var inputSeeds = []string{
	`{"id":1,"text":"яма"}`, `{"id":"a-1","text":"Нет воды"}`, ` { "text" : "x" , "id" : -0.5e+3 } `,
	`{"text":"только текст"}`, `{"id":1}`, `{}`, `{"id":1,"text":null}`, `{"id":null,"text":"x"}`,
	`{"ID":1,"Text":"регистр"}`, `{"id":1,"text":"x","extra":2}`, `{"id":1,"id":2,"text":"x"}`,
	`{"id":1,"text":"a","text":"b"}`, `{"id":"\u0031","text":"esc \" \\ \n"}`, `{"id":01,"text":"x"}`,
	`{"id":1.,"text":"x"}`, `{"id":1e,"text":"x"}`, `{"id":[1],"text":"x"}`, `{"id":1,"text":"x"} trailing`,
	`{"id":1,"text":"x"`, `[1]`, `"text"`, "{\"id\":1,\"text\":\"bad \xff utf8\"}", "{\"id\":1,\"text\":\"tab\tinside\"}", "{\"id\":1,\"text\":\"я\xd0\"}", "{\"id\":\"\xd1\x80\",\"text\":\"\xd1\"}",
	`{"id":1,"text":"x",}`, `{"id":1,"text":"a\"b\\c\/d\be\ff\ng\rh\ti"}`, `{"id":1,"text":"\u00e9\n"}`, `{"id":1,"text":"bad \q escape"}`, `{"id":1,"text":"end\"}`, `{"id":-,"text":"x"}`, `{"id":true,"text":"x"}`, "\t{\"id\":2,\"text\":\"\u2028\"}\r",
}

// Whatever the fast path accepts, json.Unmarshal accepts too and reads the same id and text.
func FuzzDecodeInput(f *testing.F) {
	for _, s := range inputSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var fast classifyIn
		if !fastDecodeInput(line, &fast) {
			return
		}
		var want classifyIn
		if err := json.Unmarshal(line, &want); err != nil {
			t.Fatalf("%q: fast path accepted what Unmarshal rejects: %v", line, err)
		}
		if !bytes.Equal(fast.ID, want.ID) || (fast.ID == nil) != (want.ID == nil) {
			t.Fatalf("%q: id %q, Unmarshal %q", line, fast.ID, want.ID)
		}
		if (fast.Text == nil) != (want.Text == nil) || fast.Text != nil && *fast.Text != *want.Text {
			t.Fatalf("%q: text %v, Unmarshal %v", line, fast.Text, want.Text)
		}
	})
}

// The common lines do take the fast path; the rest reach json.Unmarshal and get its answer.
func TestDecodeInput(t *testing.T) {
	for _, s := range []string{`{"id":1,"text":"яма"}`, `{"id":"a-1","text":"Нет воды"}`, ` { "text" : "x" , "id" : -0.5e+3 } `, `{"text":"x"}`, `{"id":2,"text":"строка\nи \"кавычки\""}`} {
		var in classifyIn
		if !fastDecodeInput([]byte(s), &in) {
			t.Errorf("%s: not on the fast path", s)
		}
	}
	for _, s := range inputSeeds {
		var got, want classifyIn
		gerr, werr := decodeInput([]byte(s), &got), json.Unmarshal([]byte(s), &want)
		if (gerr == nil) != (werr == nil) || !bytes.Equal(got.ID, want.ID) || (got.Text == nil) != (want.Text == nil) ||
			got.Text != nil && *got.Text != *want.Text {
			t.Errorf("%q: got (%q, %v, %v), Unmarshal (%q, %v, %v)", s, got.ID, got.Text, gerr, want.ID, want.Text, werr)
		}
	}
}
