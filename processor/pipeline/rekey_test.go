package pipeline

import (
	"strings"
	"testing"
)

func TestRekeyConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*RekeyConfig)
		want   string // "" = valid
	}{
		{"defaults", func(*RekeyConfig) {}, ""},
		{"defaults take the engine's bounds", func(c *RekeyConfig) {
			d := DefaultConfig()
			if c.MaxInFlight != d.MaxInFlight || c.Prefetch != d.Prefetch {
				t.Errorf("rekey bounds %d/%d, engine's %d/%d", c.MaxInFlight, c.Prefetch, d.MaxInFlight, d.Prefetch)
			}
		}, ""},
		{"budget below a batch", func(c *RekeyConfig) { c.MaxInFlight = c.BatchSize - 1 }, "must hold a batch"},
		{"no prefetch", func(c *RekeyConfig) { c.Prefetch = 0 }, "prefetch"},
		{"enriched among the raw topics", func(c *RekeyConfig) { c.Topics = append(c.Topics, c.Enriched) }, "both a raw topic"},
		{"no batch", func(c *RekeyConfig) { c.BatchSize = 0 }, "batch size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultRekeyConfig()
			tc.change(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate = %v, want an error with %q", err, tc.want)
			}
		})
	}
}
