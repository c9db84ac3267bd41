package sources

import (
	"encoding/csv"
	"errors"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/teplokarta/teplokarta/internal/model"
)

var recvAt = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func payload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "payloads", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cp1251(t testing.TB, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1251.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRealisticPayloadFiles(t *testing.T) {
	reg := Default("salt", DefaultLimits())
	tests := []struct {
		file, source, contentType  string
		wantID, wantText, wantAddr string
		wantOKTMO                  string
		wantAttach                 int
		wantLat                    float64
	}{
		{"vk_wall_post_new.json", model.SourceVK, "application/json", "vk:wall-71234567_2841", "Островского", "Рязань, улица Островского, 14", "", 2, 54.6269},
		{"vk_wall_reply_new.json", model.SourceVK, "application/json", "vk:reply-71234567_2841_15", "Касимове", "", "", 0, 0},
		{"vk_board_post_new.json", model.SourceVK, "", "vk:board-71234567_39120_7", "Скопине", "", "", 0, 0},
		{"nashdom_appeal.json", model.SourceNashDom, "application/json; charset=utf-8", "nashdom:184467", "Гагарина", "г. Рязань, ул. Гагарина, 57", "", 1, 54.6198},
		{"112_card.json", model.Source112, "application/json", "112:112-62-2026-118842", "Коммунальная авария. Прорыв", "р.п. Шилово, ул. Спасская, 11", "61658151", 0, 54.3125},
		{"112_card.xml", model.Source112, "application/xml", "112:112-62-2026-118843", "ДТП. Столкновение", "г. Сасово, ул. Садовая, 2", "61726000", 0, 0},
		{"112_card_cp1251.xml", model.Source112, "application/xml; charset=windows-1251", "112:112-62-2026-118843", "перекрёстке", "г. Сасово, ул. Садовая, 2", "61726000", 0, 0},
		{"112_card_cp1251.xml", model.Source112, "text/xml", "112:112-62-2026-118843", "перекрёстке", "г. Сасово, ул. Садовая, 2", "61726000", 0, 0},
		{"pos_message.json", model.SourcePOS, "application/json", "pos:4401928", "Вывоз мусора. Во дворе", "Рязанская обл., г. Михайлов, ул. Пушкина, д. 3", "61617101", 1, 54.2297},
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+tc.contentType, func(t *testing.T) {
			a, err := reg.Parse(tc.source, payload(t, tc.file), Meta{ReceivedAt: recvAt, ContentType: tc.contentType})
			if err != nil {
				t.Fatal(err)
			}
			if a.ID != tc.wantID || !strings.Contains(a.Text, tc.wantText) || a.Address != tc.wantAddr ||
				a.Hints.OKTMO != tc.wantOKTMO || len(a.Attachments) != tc.wantAttach || a.Lat != tc.wantLat {
				t.Fatalf("got id=%q text=%q addr=%q oktmo=%q attach=%v lat=%v", a.ID, a.Text, a.Address, a.Hints.OKTMO, a.Attachments, a.Lat)
			}
			if a.EventTime.After(recvAt) || a.EventTime.Year() != 2026 {
				t.Fatalf("event time %s", a.EventTime)
			}
		})
	}
}

func TestEncodingsAndSoup(t *testing.T) {
	reg := Default("salt", DefaultLimits())
	card := `{"card_id":"c1","created_at":"2026-11-26T10:00:00+03:00","description":"Пожар в сарае","caller":{"phone":"+79101112233"}}`
	xmlCard := `<card><card_id>c2</card_id><created_at>2026-11-26T10:00:00+03:00</created_at><description>Запах газа в подъезде</description></card>`
	tests := []struct {
		name, source, ct string
		body             []byte
		reason           string // "" = accepted
	}{
		{"112 json cp1251 labelled", model.Source112, "application/json; charset=windows-1251", cp1251(t, card), ""},
		{"112 json cp1251 unlabelled", model.Source112, "application/json", cp1251(t, card), "bad_encoding"},
		{"112 xml cp1251 labelled", model.Source112, "application/xml; charset=cp1251", cp1251(t, xmlCard), ""},
		{"112 xml utf8 by sniffing", model.Source112, "", []byte(xmlCard), ""},
		{"112 xml unclosed", model.Source112, "application/xml", []byte(`<card><card_id>c2</card_id>`), "bad_xml"},
		{"112 xml two cards", model.Source112, "application/xml", []byte(xmlCard + xmlCard), "bad_xml"},
		{"112 unknown charset", model.Source112, "application/json; charset=koi8-r", []byte(card), "bad_encoding"},
		{"112 html error page", model.Source112, "text/html", []byte("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>"), "html"},
		{"nashdom html page", model.SourceNashDom, "application/json", []byte("<html><head><title>Ошибка</title></head></html>"), "html"},
		{"nashdom html soup text", model.SourceNashDom, "", []byte(`{"id":5,"created_at":"2026-11-26T10:00:00+03:00","text":"<div class=\"x\"><p><span>Яма</span></p></div>"}`), "html"},
		{"nashdom text with one angle", model.SourceNashDom, "", []byte(`{"id":5,"created_at":"2026-11-26T10:00:00+03:00","text":"Температура <18 градусов в квартире, батареи холодные"}`), ""},
		{"nashdom utf8 bom", model.SourceNashDom, "", append([]byte("\xef\xbb\xbf"), `{"id":5,"created_at":"2026-11-26T10:00:00+03:00","text":"Яма"}`...), ""},
		{"nashdom trailing object", model.SourceNashDom, "", []byte(`{"id":5,"created_at":"2026-11-26T10:00:00+03:00","text":"Яма"}{"id":6}`), "bad_json"},
		{"pos latin1 bytes", model.SourcePOS, "", []byte("{\"id\":1,\"createdAt\":\"2026-11-26T10:00:00+03:00\",\"text\":\"\xe0\xe1\"}"), "bad_encoding"},
		{"vk oversize", model.SourceVK, "", []byte(`{"type":"wall_post_new","object":{"id":1,"text":"` + strings.Repeat("я", 200<<10) + `"}}`), "oversize"},
		{"vk id as string", model.SourceVK, "", []byte(`{"type":"wall_post_new","object":{"id":"1","date":1795693200,"text":"x"}}`), "bad_json"},
		{"vk geo as object", model.SourceVK, "", []byte(`{"type":"wall_post_new","object":{"id":3,"owner_id":-1,"date":1795693200,"text":"Яма","geo":{"type":"point","coordinates":{"latitude":54.62,"longitude":39.74}}}}`), ""},
		{"vk geo coordinates wrong type", model.SourceVK, "", []byte(`{"type":"wall_post_new","object":{"id":3,"owner_id":-1,"date":1795693200,"text":"Яма","geo":{"coordinates":[1,2]}}}`), "bad_json"},
		{"vk no object", model.SourceVK, "", []byte(`{"type":"wall_post_new"}`), "missing_field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := reg.Parse(tc.source, tc.body, Meta{ReceivedAt: recvAt, ContentType: tc.ct})
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.ContainsAny(a.Text, "абвгдежзийклмнопрстуфхцчшщыэюя") {
					t.Fatalf("text not decoded to Cyrillic: %q", a.Text)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || Reason(err) != tc.reason {
				t.Fatalf("err %v (reason %q), want %q", err, Reason(err), tc.reason)
			}
		})
	}
}

func TestStatusMessages(t *testing.T) {
	nd := Default("s", DefaultLimits())
	p, _ := nd.Get(model.SourceNashDom)
	q, _ := nd.Get(model.SourcePOS)
	ndp, posp := p.(StatusParser), q.(StatusParser)
	tests := []struct {
		name      string
		sp        StatusParser
		body      []byte
		isStatus  bool
		wantType  string
		wantID    string
		reason    string
		wantDline bool
	}{
		{"nashdom in_work", ndp, payload(t, "nashdom_status.json"), true, model.EventTake, "nashdom:184467", "", false},
		{"pos answered", posp, payload(t, "pos_status.json"), true, model.EventResolve, "pos:4401928", "", true},
		{"nashdom appeal is not status", ndp, payload(t, "nashdom_appeal.json"), false, "", "", "", false},
		{"pos appeal is not status", posp, payload(t, "pos_message.json"), false, "", "", "", false},
		{"text mentioning status_changed", ndp, []byte(`{"id":1,"created_at":"2026-11-26T10:00:00+03:00","text":"\"status_changed\""}`), false, "", "", "", false},
		{"unknown status", ndp, []byte(`{"event":"status_changed","id":1,"status":"archived","changed_at":"2026-11-26T10:00:00+03:00"}`), true, "", "", "unsupported_status", false},
		{"future change", posp, []byte(`{"type":"status_changed","id":1,"status":"В работе","updatedAt":"2027-11-26T10:00:00+03:00"}`), true, "", "", "bad_time", false},
		{"deadline past DateTime", posp, []byte(`{"type":"status_changed","id":1,"status":"В работе","updatedAt":"2026-11-26T10:00:00+03:00","responseDeadline":"9999-12-31T23:00:00-05:00"}`), true, "", "", "bad_time", false},
		{"no id", ndp, []byte(`{"event":"status_changed","status":"resolved","changed_at":"2026-11-26T10:00:00+03:00"}`), true, "", "", "missing_field", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.sp.IsStatus(tc.body); got != tc.isStatus {
				t.Fatalf("IsStatus = %v", got)
			}
			if !tc.isStatus {
				return
			}
			ev, err := tc.sp.ParseStatus(tc.body, Meta{ReceivedAt: recvAt})
			if tc.reason != "" {
				if Reason(err) != tc.reason {
					t.Fatalf("err %v, want reason %s", err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != tc.wantType || ev.AppealID != tc.wantID || ev.EventID == "" || ev.Deadline.IsZero() == tc.wantDline || ev.EventTime.IsZero() {
				t.Fatalf("event %+v", ev)
			}
			again, _ := tc.sp.ParseStatus(tc.body, Meta{ReceivedAt: recvAt.Add(time.Hour)})
			if again.EventID != ev.EventID {
				t.Fatal("event id must not depend on arrival: a retried change must be recognisable")
			}
		})
	}
}

// TestNashDomTrainCSV converts every row of the shared export and parses the result: the importer and the
// processor must agree on all of it.
func TestNashDomTrainCSV(t *testing.T) {
	f, err := os.Open(filepath.Join(testenv.SharedData(t), "nashdom-ryazan", "train.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	conv, err := NewNashDomCSV(header, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	reg := Default("salt", DefaultLimits())
	ok, reasons := 0, map[string]int{}
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rec, err := conv.Record(row)
		if err != nil {
			reasons[Reason(err)]++
			continue
		}
		a, err := reg.Parse(model.SourceNashDom, rec, Meta{ReceivedAt: recvAt, ContentType: "application/json"})
		if err != nil {
			reasons[Reason(err)]++
			continue
		}
		if !a.EventTime.Equal(time.Date(2019, 3, 28, 21, 0, 0, 0, time.UTC)) || a.Hints.Category == "" {
			t.Fatalf("row %s: %+v", row[0], a)
		}
		ok++
	}
	t.Logf("train.csv: %d parsed, rejected %v", ok, reasons)
	if ok+reasons["missing_field"] != 1259 || len(reasons) > 1 || ok < 1200 {
		t.Fatalf("parsed %d, rejected %v; want 1259 rows, only empty texts rejected", ok, reasons)
	}
}

func TestNashDomCSVColumns(t *testing.T) {
	if _, err := NewNashDomCSV([]string{"text", "category"}, time.Time{}); err == nil {
		t.Fatal("header without id accepted")
	}
	c, err := NewNashDomCSV([]string{"\ufeffНомер", "Текст", "Дата", "lat", "lon"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := c.Record([]string{"17", "Яма", "25.11.2026 14:00", "54,6", "39,7"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Default("s", DefaultLimits()).Parse(model.SourceNashDom, rec, Meta{ReceivedAt: recvAt})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "nashdom:17" || a.Lat != 54.6 || !a.EventTime.Equal(time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v", a)
	}
	if _, err := c.Record([]string{"abc", "Яма"}); Reason(err) != "missing_field" {
		t.Fatalf("non-numeric id: %v", err)
	}
	if _, err := c.Record([]string{"18", "Яма", "", "north"}); Reason(err) != "wrong_type" {
		t.Fatalf("bad lat: %v", err)
	}
}

func TestGenericMapping(t *testing.T) {
	m := GenericMapping{ID: "ticket.number", Text: Paths{"ticket.subject", "ticket.body"}, EventTime: "ticket.created",
		TimeFormat: "unix", Address: Paths{"place.city", "place.street"}, Lat: "place.geo.0", Lon: "place.geo.1",
		Author: "author.phone", Attachments: "files", OKTMO: "place.oktmo", Category: "kind"}
	g, err := NewGeneric("gis_zhkh", m, "salt", DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body, reason string
	}{
		{"full", `{"ticket":{"number":9001,"subject":"Отопление","body":"Холодные батареи в школе №3","created":1795690000},"place":{"city":"Скопин","street":"ул. Ленина","geo":[53.82,39.55],"oktmo":"61715000"},"author":{"phone":"+7 900 000-00-00"},"files":["https://gis.example/1.jpg"],"kind":"ЖКХ"}`, ""},
		{"missing id", `{"ticket":{"subject":"Отопление","created":1795690000}}`, "missing_field"},
		{"time as string", `{"ticket":{"number":1,"body":"x","created":"вчера"}}`, "wrong_type"},
		{"text is object", `{"ticket":{"number":1,"body":{"a":1},"created":1795690000}}`, "wrong_type"},
		{"array top level", `[1,2]`, "wrong_type"},
		{"attachments of numbers", `{"ticket":{"number":1,"body":"x","created":1795690000},"files":[1]}`, "wrong_type"},
		{"before 2000", `{"ticket":{"number":1,"body":"x","created":900000000}}`, "bad_time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := g.Parse([]byte(tc.body), Meta{ReceivedAt: recvAt})
			if tc.reason != "" {
				if Reason(err) != tc.reason {
					t.Fatalf("err %v, want %s", err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.ID != "gis_zhkh:9001" || a.Text != "Отопление. Холодные батареи в школе №3" || a.Address != "Скопин, ул. Ленина" ||
				a.Lat != 53.82 || a.Lon != 39.55 || a.Hints.OKTMO != "61715000" || len(a.Attachments) != 1 || a.AuthorHash == "" || a.Hints.Category != "ЖКХ" {
				t.Fatalf("%+v", a)
			}
		})
	}
	for _, bad := range []struct {
		name string
		m    GenericMapping
	}{{"vk", m}, {"Bad-Name", m}, {"ok_name", GenericMapping{ID: "id"}}} {
		if _, err := NewGeneric(bad.name, bad.m, "s", DefaultLimits()); err == nil {
			t.Errorf("NewGeneric(%q) accepted", bad.name)
		}
	}
}

func TestVKGeoShapes(t *testing.T) {
	reg := Default("salt", DefaultLimits())
	for _, geo := range []string{`{"type":"point","coordinates":"54.62 39.74"}`, `{"type":"point","coordinates":{"latitude":54.62,"longitude":39.74}}`} {
		a, err := reg.Parse(model.SourceVK, []byte(`{"type":"wall_post_new","object":{"id":3,"owner_id":-1,"date":1795693200,"text":"Яма","geo":`+geo+`}}`), Meta{ReceivedAt: recvAt})
		if err != nil || a.Lat != 54.62 || a.Lon != 39.74 {
			t.Fatalf("%s: %v %v,%v", geo, err, a.Lat, a.Lon)
		}
	}
}
