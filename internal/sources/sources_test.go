package sources

import (
	"errors"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
)

func TestParseRealisticPayloads(t *testing.T) {
	reg := Default("salt", DefaultLimits())
	recv := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		source, payload string
		wantID          string
		wantOKTMO       string
		wantEvent       time.Time
		wantAttach      int
	}{
		{model.SourceVK, `{"type":"wall_post_new","group_id":123,"event_id":"e1","object":{"id":77,"owner_id":-123,"from_id":555,"date":1795693200,"text":"В Шилово третий день нет воды на улице Советской","attachments":[{"type":"photo","photo":{"sizes":[{"url":"https://sun.userapi.com/s.jpg","width":100,"height":100},{"url":"https://sun.userapi.com/x.jpg","width":800,"height":600}]}}],"geo":{"type":"point","coordinates":"54.31 40.88"}}}`,
			"vk:wall-123_77", "", time.Unix(1795693200, 0).UTC(), 1},
		{model.SourceVK, `{"type":"wall_reply_new","group_id":123,"object":{"id":9,"owner_id":-123,"post_id":77,"from_id":556,"date":1795693260,"text":"У нас тоже нет воды"}}`,
			"vk:reply-123_77_9", "", time.Unix(1795693260, 0).UTC(), 0},
		{model.SourceNashDom, `{"id":1234,"created_at":"2026-11-26T10:00:00+03:00","text":"Яма на дороге у дома 5","category":"Дороги","executor":"Управление транспорта"}`,
			"nashdom:1234", "", time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC), 0},
		{model.Source112, `{"card_id":"112-2026-0001","created_at":"2026-11-26 11:30:00","incident_type":"Прорыв трубы","description":"Затопление подвала","address":{"oktmo":"61658000","locality":"Шилово","street":"Советская","house":"3"},"caller":{"phone":"+7 (912) 345-67-89","name":"Иванов Иван"}}`,
			"112:112-2026-0001", "61658000", time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC), 0},
		{model.SourcePOS, `{"id":98765,"createdAt":"2026-11-26T09:00:00+03:00","subject":"Освещение","text":"Не горят фонари","categoryName":"Городская территория","oktmo":"61701000","responseDeadline":"2026-12-03T09:00:00+03:00"}`,
			"pos:98765", "61701000", time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC), 0},
	}
	for _, tc := range tests {
		t.Run(tc.wantID, func(t *testing.T) {
			a, err := reg.Parse(tc.source, []byte(tc.payload), Meta{ReceivedAt: recv})
			if err != nil {
				t.Fatal(err)
			}
			if a.ID != tc.wantID || a.Hints.OKTMO != tc.wantOKTMO || !a.EventTime.Equal(tc.wantEvent) || len(a.Attachments) != tc.wantAttach {
				t.Fatalf("got id=%s oktmo=%s time=%s attach=%v", a.ID, a.Hints.OKTMO, a.EventTime, a.Attachments)
			}
			if a.Region != model.DefaultRegion || a.Source != tc.source || !a.ReceivedTime.Equal(recv) {
				t.Fatalf("envelope fields: %+v", a)
			}
		})
	}
}

func Test112HidesCaller(t *testing.T) {
	reg := Default("salt", DefaultLimits())
	p := func(phone string) *model.Appeal {
		a, err := reg.Parse(model.Source112, []byte(`{"card_id":"c","created_at":"2026-11-26T10:00:00+03:00","description":"Пожар","caller":{"phone":"`+phone+`","name":"Петров"}}`), Meta{ReceivedAt: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a, b := p("+7 912 345-67-89"), p("8 (912) 3456789")
	if a.AuthorHash == "" || a.AuthorHash != b.AuthorHash {
		t.Fatalf("same phone in two spellings must hash the same: %q %q", a.AuthorHash, b.AuthorHash)
	}
	if a.AuthorHash == "79123456789" {
		t.Fatal("phone stored in clear")
	}
}

func TestRejections(t *testing.T) {
	reg := Default("salt", DefaultLimits())
	recv := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct{ name, source, payload, reason string }{
		{"not json", model.SourceNashDom, `{"id":1,`, "bad_json"},
		{"no text", model.SourceNashDom, `{"id":1,"created_at":"2026-11-26T10:00:00+03:00","text":"  "}`, "missing_field"},
		{"no id", model.SourcePOS, `{"createdAt":"2026-11-26T10:00:00+03:00","text":"x"}`, "missing_field"},
		{"future", model.SourcePOS, `{"id":1,"createdAt":"2027-01-01T10:00:00+03:00","text":"x"}`, "bad_time"},
		{"before 2000", model.SourceNashDom, `{"id":1,"created_at":"1999-12-31T10:00:00+03:00","text":"x"}`, "bad_time"},
		{"garbage time", model.Source112, `{"card_id":"1","created_at":"вчера","description":"x"}`, "bad_time"},
		// A deadline of year 0 in Moscow is year -1 in UTC: no status event could carry it.
		{"deadline before year 0 in UTC", model.SourcePOS, `{"id":1,"createdAt":"2026-11-26T10:00:00+03:00","text":"x","responseDeadline":"0000-01-01 00:00:00"}`, "bad_time"},
		{"deadline before 2000", model.SourcePOS, `{"id":1,"createdAt":"2026-11-26T10:00:00+03:00","text":"x","responseDeadline":"1999-12-31T10:00:00Z"}`, "bad_time"},
		{"deadline past DateTime", model.SourcePOS, `{"id":1,"createdAt":"2026-11-26T10:00:00+03:00","text":"x","responseDeadline":"2106-02-08T00:00:00Z"}`, "bad_time"},
		{"wrong type", model.SourceVK, `{"type":"wall_post_new","object":{"id":"abc"}}`, "bad_json"},
		{"unknown event", model.SourceVK, `{"type":"group_join","object":{"id":1}}`, "unsupported_event"},
		{"unknown source", "telegram", `{}`, "unknown_source"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := reg.Parse(tc.source, []byte(tc.payload), Meta{ReceivedAt: recv})
			if !errors.Is(err, ErrInvalid) || Reason(err) != tc.reason {
				t.Fatalf("err %v (reason %q), want reason %q", err, Reason(err), tc.reason)
			}
		})
	}
}
