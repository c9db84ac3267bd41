package app_test

import (
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/processor/app"
)

// Carried batches must leave room for a waiting round to fill: otherwise partitions stop short of the
// round's rows and every round waits its whole linger (a config once measured at two thirds of the
// throughput: --batch-size 5000 --max-unstored 16384 with the default 16,384-row rounds).
func TestOptionsRefuseRoundsThatCannotFill(t *testing.T) {
	tests := []struct {
		name string
		set  func(o *app.Options)
		ok   bool
	}{
		{"defaults", func(*app.Options) {}, true},
		{"unstored rows below a round and a batch", func(o *app.Options) {
			o.Pipeline.BatchSize, o.Pipeline.MaxInFlight, o.Pipeline.MaxUnstored = 5000, 10000, 16384
		}, false},
		{"exactly a round and a batch", func(o *app.Options) { o.Pipeline.MaxUnstored = 16384 + 2500 }, true},
		{"smaller rounds fit", func(o *app.Options) { o.Pipeline.MaxUnstored, o.Sink.RoundRows = 6500, 4000 }, true},
		{"rounds do not wait", func(o *app.Options) { o.Pipeline.MaxUnstored, o.Sink.RoundLinger = 3000, 0 }, true},
		{"batches not carried", func(o *app.Options) { o.Pipeline.MaxUnstored, o.Pipeline.CarryBatches = 0, 0 }, true},
		{"a bad stage config is reported too", func(o *app.Options) { o.Sink.RoundLinger = 2 * time.Minute }, false},
	}
	for _, tc := range tests {
		o := app.DefaultOptions()
		tc.set(&o)
		if err := o.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
