package model

import (
	"encoding/json"
	"testing"
	"time"
)

func statusEventCases() []StatusEvent {
	t0 := time.Date(2026, 12, 4, 21, 14, 33, 123456789, time.UTC)
	msk := time.FixedZone("MSK", 3*3600)
	return []StatusEvent{
		{},
		{EventID: "created:nashdom:1", Type: EventCreated, AppealID: "nashdom:1", Region: "62", OKTMO: "61701000",
			Municipality: "Рязань", Category: "Дороги", Theme: "Ямы", Source: "nashdom", Agency: "Управление",
			Actor: "processor", ActorRole: RoleSystem, Deadline: t0.Add(8 * time.Hour), ReceivedTime: t0, EventTime: t0},
		{EventID: `a"b\c`, Comment: "<script>&amp;</script>\n\t\r\b\f\x00\x1f\x7f", Attachments: []string{"https://x/1.jpg", ""},
			EventTime: t0.In(msk)},
		{Comment: "bad \xff\xfe utf-8 \xe2\x80 and \u2028\u2029 and ё 😀", Attachments: []string{}, EventTime: time.Unix(0, 0)},
		{EventTime: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), Deadline: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
		{EventTime: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, // encoding/json's error
	}
}

// TestStatusEventAppendJSON compares AppendJSON with encoding/json byte for byte, errors included.
func TestStatusEventAppendJSON(t *testing.T) {
	for i, ev := range statusEventCases() {
		want, wantErr := json.Marshal(ev)
		got, err := ev.AppendJSON([]byte("prefix"))
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("case %d: error %v, encoding/json's %v", i, err, wantErr)
		}
		if err == nil && string(got) != "prefix"+string(want) {
			t.Errorf("case %d:\n got %s\nwant prefix%s", i, got, want)
		}
	}
}

func FuzzStatusEventAppendJSON(f *testing.F) {
	for _, ev := range statusEventCases() {
		f.Add(ev.EventID, ev.Comment, ev.Municipality, ev.EventTime.UnixNano(), int64(0))
	}
	f.Fuzz(func(t *testing.T, id, comment, mun string, at, deadline int64) {
		ev := StatusEvent{EventID: id, AppealID: id, Comment: comment, Municipality: mun, Attachments: []string{comment, id},
			EventTime: time.Unix(0, at).UTC(), Deadline: time.Unix(0, deadline)}
		if deadline == 0 {
			ev.Deadline = time.Time{}
		}
		want, wantErr := json.Marshal(ev)
		got, err := ev.AppendJSON(nil)
		if (err != nil) != (wantErr != nil) || err == nil && string(got) != string(want) {
			t.Fatalf("AppendJSON = %q, %v; encoding/json %q, %v", got, err, want, wantErr)
		}
	})
}

func BenchmarkStatusEventJSON(b *testing.B) {
	ev := statusEventCases()[1]
	b.Run("AppendJSON", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = ev.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(ev)
		}
	})
}
