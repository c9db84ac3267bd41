package backfill_test

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/ingest/backfill"
	"github.com/teplokarta/teplokarta/ingest/ingesttest"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
)

func newIngestor(t *testing.T, w ingest.Writer) *ingest.Ingestor {
	v, err := ingest.NewSchemaValidator()
	if err != nil {
		t.Fatal(err)
	}
	return ingest.NewIngestor(sources.Default("salt", sources.DefaultLimits()), v, w, nil, nil)
}

// TestBackfillTrainCSV imports the shared «Наш дом» export and counts what reached each topic.
func TestBackfillTrainCSV(t *testing.T) {
	addr, w := ingesttest.Broker(t)
	in := newIngestor(t, w)
	path := filepath.Join(testenv.SharedData(t), "nashdom-ryazan", "train.csv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	var progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	sum, err := backfill.Run(ctx, backfill.Config{Source: "nashdom", Format: backfill.FormatOf(path), Progress: &progress}, in, f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sum.Write(&out)
	t.Log(out.String())
	if sum.Read != 1259 || sum.Appeals != 1258 || sum.Rejected != 1 || sum.Reasons["missing_field"] != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if !strings.Contains(progress.String(), "100%") || !strings.Contains(out.String(), "rejected missing_field") {
		t.Fatalf("progress %q summary %q", progress.String(), out.String())
	}
	raw := ingesttest.ReadAll(t, addr, model.RawTopic("nashdom"))
	if len(raw) != 1258 {
		t.Fatalf("raw records %d", len(raw))
	}
	var rec sources.NashDomAppeal
	if err := json.Unmarshal(raw[0].Value, &rec); err != nil || rec.CreatedAt != "2019-03-29T00:00:00+03:00" || rec.Text == "" {
		t.Fatalf("record %s: %v", raw[0].Value, err)
	}
	if string(raw[0].Key) != "nashdom:"+rec.ID.String() || ingesttest.Header(raw[0], model.HeaderContentType) != "application/json" {
		t.Fatalf("key %s headers %v", raw[0].Key, raw[0].Headers)
	}
	dlq := ingesttest.ReadAll(t, addr, model.TopicDLQ)
	if len(dlq) != 1 || !strings.HasPrefix(ingesttest.Header(dlq[0], model.HeaderReason), "missing_field: ") {
		t.Fatalf("dlq %d", len(dlq))
	}
}

func TestBackfillFormats(t *testing.T) {
	addr, w := ingesttest.Broker(t)
	in := newIngestor(t, w)
	card := `{"card_id":"A-1","created_at":"2026-11-26 10:41:07","description":"Упало дерево на провода"}`
	posMsg := `{"id":77,"createdAt":"2026-11-26T08:30:00+03:00","text":"Не работает светофор"}`
	posStatus := `{"type":"status_changed","id":77,"status":"В работе","updatedAt":"2026-11-26T09:00:00+03:00"}`
	tests := []struct {
		name, source, format, body string
		appeals, status, rejected  int
	}{
		{"112 json array", "112", backfill.JSON, " [" + card + ",\n" + `{"card_id":"A-2"}` + "]", 1, 0, 1},
		{"112 single object", "112", backfill.JSON, strings.Replace(card, "A-1", "A-3", 1), 1, 0, 0},
		{"pos ndjson", "pos", backfill.NDJSON, posMsg + "\n\n" + posStatus + "\r\n" + "{oops}\n", 1, 1, 1},
		{"csv with bad ids", "nashdom", backfill.CSV, "id,text\n1,Яма\nx,Снег\n", 1, 0, 1},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sum, err := backfill.Run(ctx, backfill.Config{Source: tc.source, Format: tc.format, BatchSize: 2}, in, strings.NewReader(tc.body), -1)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Appeals != tc.appeals || sum.Status != tc.status || sum.Rejected != tc.rejected || sum.Read != tc.appeals+tc.status+tc.rejected {
				t.Fatalf("summary %+v", sum)
			}
		})
	}
	raw := ingesttest.ReadAll(t, addr, model.RawTopic("112"))
	if len(raw) != 2 || !bytes.Equal(raw[0].Value, []byte(card)) && !bytes.Equal(raw[1].Value, []byte(card)) {
		t.Fatalf("112 records must keep the array element's bytes: %d", len(raw))
	}
	if n := ingesttest.Count(t, addr, model.TopicDLQ); n != 3 {
		t.Fatalf("dlq %d", n)
	}
	for _, bad := range []backfill.Config{{Source: "vk", Format: backfill.CSV}, {Source: "vk", Format: "xlsx"}} {
		if _, err := backfill.Run(ctx, bad, in, strings.NewReader(""), 0); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
