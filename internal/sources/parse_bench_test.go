package sources_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
)

// BenchmarkParse parses the realistic JSON payload of each source, as the processor does for every raw
// message (go test -run '^$' -bench Parse -benchmem ./internal/sources/).
func BenchmarkParse(b *testing.B) {
	reg := sources.Default("bench", sources.DefaultLimits())
	for _, c := range []struct{ source, file string }{
		{model.SourceVK, "vk_wall_post_new.json"},
		{model.SourceNashDom, "nashdom_appeal.json"},
		{model.SourcePOS, "pos_message.json"},
		{model.Source112, "112_card.json"},
	} {
		payload, err := os.ReadFile(filepath.Join("testdata", "payloads", c.file))
		if err != nil {
			b.Fatal(err)
		}
		meta := sources.Meta{ReceivedAt: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), ContentType: "application/json"}
		if _, err := reg.Parse(c.source, payload, meta); err != nil {
			b.Fatalf("%s: %v", c.file, err)
		}
		b.Run(c.source, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := reg.Parse(c.source, payload, meta); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
