package benchpeer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/benchpeer"
)

// drain is a result of one system over 1,000 messages in took, with each role's CPU in total µs.
func drain(system string, took time.Duration, rows int, cpu map[string]int, peakKiB int64) benchpeer.Result {
	r := benchpeer.Result{System: system, Messages: 1000, Unique: 900, Rows: rows, Took: took,
		CPU: map[string]time.Duration{}, PeakKiB: map[string]int64{"processor": peakKiB}}
	for role, us := range cpu {
		r.CPU[role] = time.Duration(us) * time.Microsecond
	}
	return r
}

func TestTargets(t *testing.T) {
	peer := drain(benchpeer.SystemPeer, time.Second, 1000, map[string]int{"clickhouse": 15_000}, 0)
	for _, tc := range []struct {
		name string
		tk   benchpeer.Result
		met  []bool // in the order of benchpeer.Targets
	}{
		{"today's shape: every target missed",
			drain(benchpeer.SystemTeplokarta, 10*time.Second, 900, map[string]int{"processor": 112_000, "redis": 60_000, "clickhouse": 72_000}, 400<<10),
			[]bool{false, false, false, false, false}},
		{"exactly on every limit",
			drain(benchpeer.SystemTeplokarta, 2*time.Second, 900, map[string]int{"processor": 40_000, "redis": 10_000, "clickhouse": 27_000}, 300<<10),
			[]bool{true, true, true, true, true}},
		{"fast but hungry",
			drain(benchpeer.SystemTeplokarta, time.Second, 900, map[string]int{"processor": 39_000, "redis": 11_000, "clickhouse": 27_900}, 301<<10),
			[]bool{true, true, false, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &benchpeer.Report{Results: []benchpeer.Result{peer, tc.tk}}
			for i, target := range benchpeer.Targets {
				if got := target.Met(rep); got != tc.met[i] {
					t.Errorf("%s (%.2f against %g): met %v, want %v", target.What, target.Of(rep), target.Limit, got, tc.met[i])
				}
			}
			var out strings.Builder
			benchpeer.PrintTargets(&out, rep)
			if n := strings.Count(out.String(), " met\n") + strings.Count(out.String(), " missed\n"); n != len(benchpeer.Targets) {
				t.Errorf("printed %d verdicts, want %d:\n%s", n, len(benchpeer.Targets), out.String())
			}
		})
	}
	// A run without the peer has no ratio: that target is missed, not met by a NaN.
	rep := &benchpeer.Report{Results: []benchpeer.Result{drain(benchpeer.SystemTeplokarta, time.Second, 900, nil, 1)}}
	if benchpeer.Targets[0].Met(rep) {
		t.Error("the ratio target is met without a peer drain")
	}
}
