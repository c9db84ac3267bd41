package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/ingest/ingesttest"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
)

var recv = time.Date(2026, 11, 26, 12, 0, 0, 123456789, time.UTC)

func fixture(t *testing.T, name string) []byte { return fixtureB(t, name) }

func fixtureB(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "internal", "sources", "testdata", "payloads", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newIngestor(t testing.TB, w ingest.Writer) *ingest.Ingestor {
	t.Helper()
	v, err := ingest.NewSchemaValidator()
	if err != nil {
		t.Fatal(err)
	}
	return ingest.NewIngestor(sources.Default("salt", sources.DefaultLimits()), v, w, nil, nil).WithClock(func() time.Time { return recv })
}

// TestIngestRoundTrip produces one realistic message of each kind and reads every topic back: raw bytes,
// keys and headers must be exactly what the contract says.
func TestIngestRoundTrip(t *testing.T) {
	addr, w := ingesttest.Broker(t)
	in := newIngestor(t, w)
	tests := []struct {
		name    string
		msg     ingest.Message
		outcome ingest.Outcome
		id      string // appeal id (appeal, status) or reason (rejected)
	}{
		{"vk post", ingest.Message{Source: "vk", Payload: fixture(t, "vk_wall_post_new.json")}, ingest.Appeal, "vk:wall-71234567_2841"},
		{"vk reply", ingest.Message{Source: "vk", Payload: fixture(t, "vk_wall_reply_new.json")}, ingest.Appeal, "vk:reply-71234567_2841_15"},
		{"nashdom", ingest.Message{Source: "nashdom", Payload: fixture(t, "nashdom_appeal.json"), ContentType: "application/json; charset=utf-8"}, ingest.Appeal, "nashdom:184467"},
		{"112 xml cp1251", ingest.Message{Source: "112", Payload: fixture(t, "112_card_cp1251.xml"), ContentType: "application/xml; charset=windows-1251"}, ingest.Appeal, "112:112-62-2026-118843"},
		{"112 json", ingest.Message{Source: "112", Payload: fixture(t, "112_card.json")}, ingest.Appeal, "112:112-62-2026-118842"},
		{"pos", ingest.Message{Source: "pos", Payload: fixture(t, "pos_message.json")}, ingest.Appeal, "pos:4401928"},
		{"nashdom status", ingest.Message{Source: "nashdom", Payload: fixture(t, "nashdom_status.json")}, ingest.Status, "nashdom:184467"},
		{"pos status", ingest.Message{Source: "pos", Payload: fixture(t, "pos_status.json")}, ingest.Status, "pos:4401928"},
		{"bad json", ingest.Message{Source: "pos", Payload: []byte(`{"id":1,`)}, ingest.Rejected, "bad_json"},
		{"schema: lat out of range", ingest.Message{Source: "nashdom", Payload: []byte(`{"id":7,"created_at":"2026-11-26T10:00:00+03:00","text":"Яма","lat":540}`)}, ingest.Rejected, "schema"},
		{"schema: oktmo pattern", ingest.Message{Source: "pos", Payload: []byte(`{"id":7,"createdAt":"2026-11-26T10:00:00+03:00","text":"Яма","oktmo":"Рязань"}`)}, ingest.Rejected, "schema"},
		{"future", ingest.Message{Source: "nashdom", Payload: []byte(`{"id":8,"created_at":"2027-11-26T10:00:00+03:00","text":"Яма"}`)}, ingest.Rejected, "bad_time"},
		{"html", ingest.Message{Source: "112", Payload: []byte(`<html><body>503</body></html>`), ContentType: "text/html"}, ingest.Rejected, "html"},
		{"cp1251 unlabelled", ingest.Message{Source: "nashdom", Payload: []byte("{\"id\":9,\"created_at\":\"2026-11-26T10:00:00+03:00\",\"text\":\"\xdf\xec\xe0\"}")}, ingest.Rejected, "bad_encoding"},
		{"unsupported vk event", ingest.Message{Source: "vk", Payload: []byte(`{"type":"group_join","object":{"user_id":1}}`)}, ingest.Rejected, "unsupported_event"},
	}
	msgs := make([]ingest.Message, len(tests))
	for i, tc := range tests {
		msgs[i] = tc.msg
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := in.Ingest(ctx, msgs...)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]ingesttest.Record{}
	for _, topic := range []string{model.RawTopic("vk"), model.RawTopic("nashdom"), model.RawTopic("112"), model.RawTopic("pos")} {
		for _, m := range ingesttest.ReadAll(t, addr, topic) {
			byKey[string(m.Key)] = ingesttest.Record{Message: m}
		}
	}
	status := ingesttest.ReadAll(t, addr, model.TopicStatus)
	dlq := ingesttest.ReadAll(t, addr, model.TopicDLQ)
	var nStatus, nDLQ int
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := res[i]
			if r.Outcome != tc.outcome {
				t.Fatalf("outcome %v (%s %s), want %v", r.Outcome, r.Reason, r.Detail, tc.outcome)
			}
			switch tc.outcome {
			case ingest.Appeal:
				if r.ID != tc.id {
					t.Fatalf("id %s", r.ID)
				}
				m, ok := byKey[tc.id]
				if !ok {
					t.Fatalf("no record keyed %s", tc.id)
				}
				wantCT := tc.msg.ContentType
				if wantCT == "" {
					wantCT = "application/json"
				}
				if !bytes.Equal(m.Value, tc.msg.Payload) || m.Topic != model.RawTopic(tc.msg.Source) ||
					ingesttest.Header(m.Message, model.HeaderSource) != tc.msg.Source ||
					ingesttest.Header(m.Message, model.HeaderReceivedAt) != "2026-11-26T12:00:00.123456789Z" ||
					ingesttest.Header(m.Message, model.HeaderContentType) != wantCT ||
					ingesttest.Header(m.Message, model.HeaderSchemaVersion) != "1" {
					t.Fatalf("record %s: value equal=%v headers %v", m.Topic, bytes.Equal(m.Value, tc.msg.Payload), m.Headers)
				}
			case ingest.Status:
				m := status[nStatus]
				nStatus++
				var ev model.StatusEvent
				if err := json.Unmarshal(m.Value, &ev); err != nil {
					t.Fatal(err)
				}
				if string(m.Key) != tc.id || ev.AppealID != tc.id || ev.EventID == "" || ingesttest.Header(m, model.HeaderSource) != tc.msg.Source {
					t.Fatalf("status record key %s: %+v", m.Key, ev)
				}
			case ingest.Rejected:
				if r.Reason != tc.id {
					t.Fatalf("reason %s (%s), want %s", r.Reason, r.Detail, tc.id)
				}
				m := findDLQ(dlq, tc.msg.Payload)
				if m == nil {
					t.Fatal("no dead letter with the original bytes")
				}
				nDLQ++
				if !strings.HasPrefix(ingesttest.Header(*m, model.HeaderReason), tc.id+": ") || ingesttest.Header(*m, model.HeaderStage) != "ingest" ||
					ingesttest.Header(*m, model.HeaderSource) != tc.msg.Source || ingesttest.Header(*m, model.HeaderReceivedAt) == "" {
					t.Fatalf("dead letter headers %v", m.Headers)
				}
			}
		})
	}
	if len(status) != nStatus || len(dlq) != nDLQ || len(byKey) != len(tests)-nStatus-nDLQ {
		t.Fatalf("extra records: status %d dlq %d raw %d", len(status), len(dlq), len(byKey))
	}
}

func findDLQ(dlq []ingesttest.Message, payload []byte) *ingesttest.Message {
	for i := range dlq {
		if bytes.Equal(dlq[i].Value, payload) {
			return &dlq[i]
		}
	}
	return nil
}
