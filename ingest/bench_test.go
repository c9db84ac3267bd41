package ingest_test

import (
	"testing"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/internal/sources"
)

// BenchmarkPrepare is the CPU an appeal costs at ingest before Kafka: parse + JSON Schema, per source.
func BenchmarkPrepare(b *testing.B) {
	for _, tc := range []struct{ source, file, ct string }{
		{"nashdom", "nashdom_appeal.json", ""},
		{"vk", "vk_wall_post_new.json", ""},
		{"112", "112_card_cp1251.xml", "application/xml; charset=windows-1251"},
		{"pos", "pos_message.json", ""},
	} {
		b.Run(tc.source+"/parser_only", func(b *testing.B) {
			in := ingest.NewIngestor(sources.Default("salt", sources.DefaultLimits()), nil, nil, nil, nil)
			msg := ingest.Message{Source: tc.source, Payload: fixtureB(b, tc.file), ContentType: tc.ct, ReceivedAt: recv}
			for b.Loop() {
				if r, _ := in.Prepare(msg); r.Outcome != ingest.Appeal {
					b.Fatal(r)
				}
			}
		})
		b.Run(tc.source+"/with_schema", func(b *testing.B) {
			in := newIngestor(b, nil)
			msg := ingest.Message{Source: tc.source, Payload: fixtureB(b, tc.file), ContentType: tc.ct, ReceivedAt: recv}
			for b.Loop() {
				if r, _ := in.Prepare(msg); r.Outcome != ingest.Appeal {
					b.Fatal(r)
				}
			}
		})
	}
}
