package sources

import (
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/teplokarta/teplokarta/internal/model"
)

// Every parser is fuzzed with the same properties: no panic; an error is always an InvalidError (the DLQ
// needs a reason); an accepted appeal has the envelope fields the processor relies on; parsing is
// deterministic. Seeds: the realistic payloads in testdata/payloads plus testdata/fuzz/<Target>.

func addPayloadSeeds(f *testing.F, prefix string) {
	files, _ := filepath.Glob(filepath.Join("testdata", "payloads", prefix+"*"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func checkParsed(t *testing.T, p Parser, data []byte, meta Meta) {
	a, err := p.Parse(data, meta)
	if err != nil {
		var ie *InvalidError
		if !errors.As(err, &ie) || ie.Reason == "" {
			t.Fatalf("error without a reason: %v", err)
		}
		return
	}
	if a.ID != model.AppealID(p.Source(), a.SourceID) || a.SourceID == "" || a.Source != p.Source() {
		t.Fatalf("id %q source %q source id %q", a.ID, a.Source, a.SourceID)
	}
	if strings.TrimSpace(a.Text) == "" || !utf8.ValidString(a.Text) {
		t.Fatalf("text %q", a.Text)
	}
	if a.EventTime.Before(DefaultLimits().MinTime) || a.EventTime.After(meta.ReceivedAt.Add(DefaultLimits().MaxSkew)) {
		t.Fatalf("event time %s out of range", a.EventTime)
	}
	b, err := p.Parse(data, meta)
	if err != nil || b.ID != a.ID || b.Text != a.Text || !b.EventTime.Equal(a.EventTime) {
		t.Fatalf("second parse differs: %v %+v", err, b)
	}
}

func parserOf(t testing.TB, source string) Parser {
	p, ok := Default("fuzz", DefaultLimits()).Get(source)
	if !ok {
		t.Fatalf("no parser %s", source)
	}
	return p
}

func FuzzVK(f *testing.F) {
	addPayloadSeeds(f, "vk_")
	p := parserOf(f, model.SourceVK)
	f.Fuzz(func(t *testing.T, data []byte) { checkParsed(t, p, data, Meta{ReceivedAt: recvAt}) })
}

func FuzzNashDom(f *testing.F) {
	addPayloadSeeds(f, "nashdom_appeal")
	p := parserOf(f, model.SourceNashDom)
	f.Fuzz(func(t *testing.T, data []byte) { checkParsed(t, p, data, Meta{ReceivedAt: recvAt}) })
}

func FuzzPOS(f *testing.F) {
	addPayloadSeeds(f, "pos_message")
	p := parserOf(f, model.SourcePOS)
	f.Fuzz(func(t *testing.T, data []byte) { checkParsed(t, p, data, Meta{ReceivedAt: recvAt}) })
}

func Fuzz112(f *testing.F) {
	for _, s := range []struct{ file, ct string }{
		{"112_card.json", "application/json"}, {"112_card.xml", "application/xml"},
		{"112_card_cp1251.xml", "application/xml; charset=windows-1251"}, {"112_card_cp1251.xml", ""},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "payloads", s.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, s.ct)
	}
	p := parserOf(f, model.Source112)
	f.Fuzz(func(t *testing.T, data []byte, ct string) {
		checkParsed(t, p, data, Meta{ReceivedAt: recvAt, ContentType: ct})
	})
}

func FuzzStatus(f *testing.F) {
	addPayloadSeeds(f, "nashdom_status")
	addPayloadSeeds(f, "pos_status")
	reg := Default("fuzz", DefaultLimits())
	var sps []StatusParser
	for _, src := range []string{model.SourceNashDom, model.SourcePOS} {
		p, _ := reg.Get(src)
		sps = append(sps, p.(StatusParser))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for i, sp := range sps {
			if !sp.IsStatus(data) {
				continue
			}
			ev, err := sp.ParseStatus(data, Meta{ReceivedAt: recvAt})
			if err != nil {
				if Reason(err) == "internal" {
					t.Fatalf("error without a reason: %v", err)
				}
				continue
			}
			src := []string{model.SourceNashDom, model.SourcePOS}[i]
			if ev.EventID == "" || ev.Type == "" || !strings.HasPrefix(ev.AppealID, src+":") || ev.EventTime.IsZero() {
				t.Fatalf("event %+v", ev)
			}
		}
	})
}

func FuzzGeneric(f *testing.F) {
	f.Add([]byte(`{"ticket":{"number":9001,"subject":"Отопление","body":"Холодные батареи","created":1795690000},"place":{"geo":[53.82,39.55]},"files":["https://x/1.jpg"]}`))
	f.Add([]byte(`{"ticket":{"number":"A-1","body":"x","created":1795690000}}`))
	g, err := NewGeneric("gis_zhkh", GenericMapping{ID: "ticket.number", Text: Paths{"ticket.subject", "ticket.body"},
		EventTime: "ticket.created", TimeFormat: "unix", Lat: "place.geo.0", Lon: "place.geo.1", Attachments: "files"}, "s", DefaultLimits())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkParsed(t, g, data, Meta{ReceivedAt: recvAt}) })
}

// FuzzNashDomCSV feeds one CSV line (a row of the export) through conversion and parsing: whatever the
// importer produces must parse, or be rejected with a reason.
func FuzzNashDomCSV(f *testing.F) {
	f.Add(`"2","В 2016 году на улице Крупской повесили знаки ""парковка запрещена""","Парковки","Вопросы платных парковок","Управление транспорта"`)
	f.Add(`"3","","Дороги","",""`)
	f.Add(`x,"<b>a</b>",,,`)
	conv, err := NewNashDomCSV([]string{"id", "text", "category", "theme", "executor"}, NashDomExportTime)
	if err != nil {
		f.Fatal(err)
	}
	p := parserOf(f, model.SourceNashDom)
	f.Fuzz(func(t *testing.T, line string) {
		r := csv.NewReader(strings.NewReader(line))
		r.FieldsPerRecord = -1
		row, err := r.Read()
		if err != nil {
			return
		}
		rec, err := conv.Record(row)
		if err != nil {
			if Reason(err) == "internal" {
				t.Fatalf("conversion error without a reason: %v", err)
			}
			return
		}
		checkParsed(t, p, rec, Meta{ReceivedAt: recvAt})
	})
}
