package ingest_test

import (
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/ingest/simulator"
)

// TestSimulatedStreamPassesIngest: the simulator's messages (what the demo and the end-to-end test send)
// must pass ingest's parsers and JSON Schemas, or the demo would fill the DLQ.
func TestSimulatedStreamPassesIngest(t *testing.T) {
	cfg := simulator.DefaultConfig()
	cfg.Start = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	g, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	in := newIngestor(t, nil)
	for i := 0; i < 5000; i++ {
		m := g.Next()
		res, rec := in.Prepare(ingest.Message{Source: m.Source, Payload: m.Payload, ContentType: m.ContentType, ReceivedAt: m.Arrival})
		if res.Outcome != ingest.Appeal || string(rec.Key) != m.AppealID() {
			t.Fatalf("message %d (%s): %v %s: %s\n%s", i, m.Source, res.Outcome, res.Reason, res.Detail, m.Payload)
		}
	}
}
