package simulator_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/ingest/ingesttest"
	"github.com/teplokarta/teplokarta/ingest/server"
	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/ingest/vk"
	"github.com/teplokarta/teplokarta/internal/model"
)

// TestHTTPSinkSignsForExampleConfig: against a real ingest server configured by deploy/ingest.example.yaml
// (auth on every source, as compose runs it), the simulator's batches signed with that config's secrets
// are all taken in, and unsigned ones are refused.
func TestHTTPSinkSignsForExampleConfig(t *testing.T) {
	cfg, err := ingest.LoadConfig(filepath.Join("..", "..", "deploy", "ingest.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	addr, w := ingesttest.Broker(t)
	reg, err := cfg.Registry()
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := ingest.NewSchemaValidator()
	if err != nil {
		t.Fatal(err)
	}
	preg := prometheus.NewRegistry()
	in := ingest.NewIngestor(reg, schemas, w, ingest.NewMetrics(preg), nil)
	srv := httptest.NewServer(server.New(cfg, in, vk.NewCallback(cfg.VK, in, nil), preg, nil))
	defer srv.Close()

	run := func(sign func(string, http.Header, []byte)) (*simulator.Truth, error) {
		g, err := simulator.New(func() simulator.Config {
			c := simulator.DefaultConfig()
			c.Start = time.Now().Add(-time.Hour)
			return c
		}())
		if err != nil {
			t.Fatal(err)
		}
		truth := simulator.NewTruth()
		sink := simulator.HTTPSink{BaseURL: srv.URL, Client: srv.Client(), Sign: sign}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return truth, simulator.Run(ctx, g, sink, simulator.RunConfig{Count: 400, BatchSize: 50}, truth)
	}
	if _, err := run(nil); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("unsigned batches: err %v, want a 401", err)
	}
	truth, err := run(func(source string, h http.Header, body []byte) { cfg.Source(source).Auth.Sign(h, body) })
	if err != nil {
		t.Fatalf("signed batches refused: %v", err)
	}
	var stored int64
	for _, s := range model.KnownSources {
		stored += ingesttest.Count(t, addr, model.RawTopic(s))
	}
	if dlq := ingesttest.Count(t, addr, model.TopicDLQ); stored != int64(truth.Messages) || dlq != 0 {
		t.Fatalf("raw topics hold %d records and the DLQ %d; the simulator sent %d", stored, dlq, truth.Messages)
	}
}
