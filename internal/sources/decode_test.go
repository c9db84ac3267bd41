package sources

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// decodeJSON must read every typed message as encoding/json did before it: these cases tell the two
// libraries' default semantics apart, so that an option lost in an upgrade of go-json-experiment, or a new
// message type it reads differently, shows here rather than as appeals parsed differently in production.
var semanticsCases = []string{
	// names: matched case-insensitively with Unicode folding (\u212a, the Kelvin sign, matches k; ſ, the
	// long s, matches s) but with '_' kept; escaped names
	`{"TYPE":"wall_post_new","Object":{"ID":5,"Owner_ID":-1,"DATE":1795693200,"Text":"Яма","GEO":{"Type":"point","COORDINATES":"54.6 39.7","PLACE":{"TITLE":"x"}}}}`,
	`{"Id":7,"Created_At":"2026-11-26T10:00:00+03:00","TEXT":"Яма","o\u212atmo":"61","ſtatus":"new","createdat":"x","te\u0078t":"Дом"}`,
	`{"card_\u0069d":"c","ADDRESS":{"STREET":"Л"},"Caller":{"PHONE":"+79101112233"},"XMLName":{"Space":"a"},"-":"x"}`,
	// duplicate names: the last one wins, null leaves a field as it was, objects and arrays merge
	`{"id":1,"id":2,"text":"a","text":"Яма","TEXT":"Дом","created_at":"2026","created_at":null}`,
	`{"id":1,"photos":["a","b"],"photos":["c"],"lat":1.5,"lat":null,"id":null}`,
	`{"id":1,"photos":["a","b"],"photos":null}`,
	`{"id":1,"coordinates":{"lat":1},"coordinates":{"lon":2},"attachments":["a",null,"b"]}`,
	`{"card_id":"c","address":{"street":"a"},"address":{"house":"1"},"caller":{"phone":"1"},"caller":null}`,
	`{"type":"wall_post_new","object":{"id":1,"text":"Яма"},"object":{"id":2,"text":"Дом"}}`,
	`{"type":"wall_post_new","object":{"id":"bad"},"object":{"id":2,"text":"Дом"}}`,
	`{"type":"wall_post_new","object":{"id":2},"object":null}`,
	`{"id":2,"attachments":[{"type":"photo","photo":{"sizes":[{"url":"a","width":1,"height":1},{"url":"b","width":5,"height":5}]}},{"type":"doc","doc":{"url":"d"}}],"attachments":[{"type":"link","link":{"url":"l"}}]}`,
	`{"id":2,"geo":{"coordinates":"1 2"},"geo":{"type":"p"}}`,
	`{"id":2,"geo":{"coordinates":[1,2],"coordinates":"3 4"}}`,
	`{"id":2,"geo":{"coordinates":{"latitude":1,"latitude":null,"LONGITUDE":-0}}}`,
	`{"id":2,"geo":null}`,
	// escapes: a lone surrogate becomes U+FFFD
	`{"id":1,"text":"Яма \ud800 и \udc00\u0041 \ud83d\ude00 \ud83d"}`,
	`{"id":1,"text":"\u0000 \/ \b\f\n\r\t","\ud800":1}`,
	// json.Number: a number as written, a string holding exactly one number, else an error
	`{"id":-0}`, `{"id":1.50e3}`, `{"id":"1.5e3"}`, `{"id":"\u0031"}`, `{"id":" 1"}`, `{"id":"1 "}`, `{"id":""}`,
	`{"id":"01"}`, `{"id":"-"}`, `{"id":"NaN"}`, `{"id":true}`, `{"id":{}}`, `{"id":[1]}`, `{"id":null}`,
	// other numbers
	`{"id":2.0}`, `{"id":2e0}`, `{"id":9223372036854775807}`, `{"id":9223372036854775808}`, `{"id":-9223372036854775808}`,
	`{"id":1,"lat":1e400}`, `{"id":1,"lat":-1e-400}`, `{"id":1,"lat":"54.1"}`, `{"group_id":"1"}`, `{"group_id":1.5}`,
	// syntax and shape
	`{"id":1}x`, `{"id":1} {}`, " \n{\"id\":1}\t\r\n", `{"id":1,}`, `{"id":01}`, `{"id":+1}`, `{"id":1,"x":tru}`,
	`{"id":"x","x":[1,]}`, `{"id":1,"x":[1,2,{"a":[]}]}`, `{"id":1,"text":"` + "\t" + `"}`, `{'id':1}`, ``, `{`, `null`, `[]`, `"x"`, `1`,
}

func decodeTargets() []any {
	return []any{new(VKEvent), new(VKItem), new(NashDomAppeal), new(POSMessage), new(Card112), new(NashDomStatus), new(POSStatus)}
}

func checkDecodesAsEncodingJSON(t *testing.T, doc []byte) {
	t.Helper()
	wants, gots := decodeTargets(), decodeTargets()
	for i := range wants {
		werr := json.Unmarshal(doc, wants[i])
		gerr := decodeJSON(doc, gots[i])
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%T %q: encoding/json says %v, decodeJSON %v", wants[i], doc, werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(wants[i], gots[i]) {
			t.Fatalf("%T %q:\nencoding/json %+v\ndecodeJSON    %+v", wants[i], doc, wants[i], gots[i])
		}
	}
	// VK reads the envelope and its object in one pass; before, it read the envelope, looked at its type,
	// then read the object: the outcome must be the same.
	var ev VKEvent
	var env vkEnvelope
	werr := json.Unmarshal(doc, &ev)
	gerr := decodeJSON(doc, &env)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("VK envelope %q: encoding/json says %v, decodeJSON %v", doc, werr, gerr)
	}
	if werr != nil {
		return
	}
	obj := ev.Object
	ev.Object = nil
	if !reflect.DeepEqual(ev, env.VKEvent) || env.Object.present != (len(obj) > 0) {
		t.Fatalf("VK envelope %q: encoding/json %+v, decodeJSON %+v", doc, ev, env)
	}
	if !env.Object.present {
		return
	}
	var it VKItem
	werr = json.Unmarshal(obj, &it)
	if (werr == nil) != (env.Object.err == nil) {
		t.Fatalf("VK object %q: encoding/json says %v, decodeJSON %v", doc, werr, env.Object.err)
	}
	if werr == nil && !reflect.DeepEqual(it, env.Object.item) {
		t.Fatalf("VK object %q:\nencoding/json %+v\ndecodeJSON    %+v", doc, it, env.Object.item)
	}
}

func TestDecodeJSONAsEncodingJSON(t *testing.T) {
	for _, c := range semanticsCases {
		checkDecodesAsEncodingJSON(t, []byte(c))
		checkDecodesAsEncodingJSON(t, []byte(`{"type":"wall_post_new","object":`+c+`}`))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "payloads", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkDecodesAsEncodingJSON(t, b)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, c := range semanticsCases {
		f.Add([]byte(c))
	}
	addPayloadSeeds(f, "")
	f.Fuzz(func(t *testing.T, doc []byte) { checkDecodesAsEncodingJSON(t, doc) })
}
