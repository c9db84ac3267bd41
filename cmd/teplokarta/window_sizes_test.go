package main

import (
	"slices"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/processor/window"
)

func TestWindowSizesFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []time.Duration
		err  bool
	}{
		{in: "1m,1h,24h", want: []time.Duration{time.Minute, time.Hour, 24 * time.Hour}},
		{in: " 5m , 15m,", want: []time.Duration{5 * time.Minute, 15 * time.Minute}},
		{in: "90s,168h", want: []time.Duration{90 * time.Second, 168 * time.Hour}},
		{in: "", err: true},
		{in: "1m,soon", err: true},
	} {
		got, err := parseSizes(tc.in)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("parseSizes(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	if got := formatSizes(window.DefaultConfig().Sizes); got != "1m,1h,24h" {
		t.Errorf("default shown as %q", got)
	}
	if got := formatSizes([]time.Duration{90 * time.Second}); got != "1m30s" {
		t.Errorf("90s shown as %q", got)
	}
}

// The flag reaches the processor's options, and a size that does not tile a day is refused when the
// windower is built, not silently used.
func TestWindowSizesReachOptions(t *testing.T) {
	for _, tc := range []struct {
		flag string
		want []time.Duration
		ok   bool
	}{
		{"15m,1h", []time.Duration{15 * time.Minute, time.Hour}, true},
		{"7m", []time.Duration{7 * time.Minute}, false},
	} {
		fs := cli.NewFlagSet(cli.OSEnv("test"), "process", "")
		pf := addProcessorFlags(fs)
		rf := addRedisFlags(fs)
		if err := fs.Parse([]string{"--local", "--window-sizes", tc.flag, "--redis-prefix", "t:"}); err != nil {
			t.Fatal(err)
		}
		o, err := pf.options([]string{"127.0.0.1:1"}, rf)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(o.Window.Sizes, tc.want) {
			t.Fatalf("--window-sizes %s: sizes %v", tc.flag, o.Window.Sizes)
		}
		if _, err := window.New(o.Window); (err == nil) != tc.ok {
			t.Fatalf("--window-sizes %s: window.New error %v", tc.flag, err)
		}
	}
}
