package chaos

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func stackAt(port int) Stack {
	return Stack{Script: "deploy/local/stack.sh", StateDir: fmt.Sprintf("/tmp/st%d", port), CHPort: port, CHHTTP: port + 1, RedisPort: port + 2}
}

func TestDeal(t *testing.T) {
	a, b, c := stackAt(100), stackAt(200), stackAt(300)
	s1, s2 := stackAt(400), stackAt(500)
	for _, tc := range []struct {
		name string
		cfg  Config
		want map[Stack][]string
	}{
		{"one stack runs everything in order", Config{Stack: a, Faults: Applicable(nil)}, map[Stack][]string{a: Applicable(nil)}},
		{"a server stack takes both server faults", Config{Stack: a, ServerStack: s1, Faults: Applicable(nil)}, map[Stack][]string{
			a:  {"processor-sigkill", "kill-after-store", "rebalance-kill", "scale-three", "ingest-sigkill", "broker-restart"},
			s1: {"clickhouse-stop", "redis-wipe"}}},
		{"make chaos's default: three lanes, two server lanes", Config{Stack: a, ExtraStacks: []Stack{b, c}, ServerStack: s1,
			ExtraServerStacks: []Stack{s2}, Faults: Applicable(nil)}, map[Stack][]string{
			a:  {"processor-sigkill", "scale-three"},
			b:  {"kill-after-store", "ingest-sigkill"},
			c:  {"rebalance-kill", "broker-restart"},
			s1: {"clickhouse-stop"},
			s2: {"redis-wipe"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Bin = "/bin/true"
			if err := tc.cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := tc.cfg.deal(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("deal() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestValidateStacks(t *testing.T) {
	a, s1 := stackAt(100), stackAt(400)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"extra server stacks without a server stack", Config{Stack: a, ExtraServerStacks: []Stack{s1}}, "need a server stack"},
		{"a server lane on a general lane's ports", Config{Stack: a, ServerStack: s1, ExtraServerStacks: []Stack{a}}, "its own state directory and ports"},
		{"two server lanes on one port", Config{Stack: a, ServerStack: s1, ExtraServerStacks: []Stack{{Script: "x", StateDir: "/tmp/other", CHPort: 400, CHHTTP: 1, RedisPort: 2}}}, "its own state directory and ports"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Bin = "/bin/true"
			if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// With --dedup-state local only one processor consumes at a time, so the suite leaves out scale-three
// (three consuming together) by default and refuses it when asked for: it would wait out its run's time.
// grow-enriched runs only with --dedup-state partition, the mode that has appeals.enriched.
func TestFaultsTheProcessFlagsAllow(t *testing.T) {
	shared := []string{"processor-sigkill", "kill-after-store", "rebalance-kill", "ingest-sigkill", "broker-restart", "clickhouse-stop", "redis-wipe"}
	withScale := []string{"processor-sigkill", "kill-after-store", "rebalance-kill", "scale-three", "ingest-sigkill", "broker-restart", "clickhouse-stop", "redis-wipe"}
	for _, tc := range []struct {
		flags []string
		want  []string
	}{
		{nil, withScale},
		{[]string{"--dedup-state", "redis"}, withScale},
		{[]string{"--dedup-state", "partition"}, Faults},
		{[]string{"--dedup-state=partition", "--enriched-partitions", "12"}, Faults},
		{[]string{"--batch-size", "100", "--dedup-state", "local"}, shared},
		{[]string{"-dedup-state=local"}, shared},
	} {
		cfg := Config{Bin: "bin/teplokarta", Stack: stackAt(100), ProcessFlags: tc.flags}
		cfg.defaults()
		if !reflect.DeepEqual(cfg.Faults, tc.want) {
			t.Errorf("%v: faults %v, want %v", tc.flags, cfg.Faults, tc.want)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%v: the default faults refused: %v", tc.flags, err)
		}
	}
	for _, tc := range []struct {
		flags []string
		fault string
	}{
		{[]string{"--dedup-state", "local"}, "scale-three"},
		{[]string{"--dedup-state", "local"}, "grow-enriched"},
		{nil, "grow-enriched"},
	} {
		cfg := Config{Bin: "bin/teplokarta", Stack: stackAt(100), ProcessFlags: tc.flags, Faults: []string{"processor-sigkill", tc.fault}}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.fault) {
			t.Errorf("%s with %v: %v, want a refusal naming it", tc.fault, tc.flags, err)
		}
	}
}

func TestEnrichedPartitionsOfTheFlags(t *testing.T) {
	for _, tc := range []struct {
		flags []string
		want  int
	}{
		{nil, 8},
		{[]string{"--dedup-state", "partition"}, 8},
		{[]string{"--enriched-partitions", "12"}, 12},
		{[]string{"-enriched-partitions=3", "--enriched-partitions", "5"}, 5},
	} {
		if got := enrichedPartitions(tc.flags); got != tc.want {
			t.Errorf("%v: %d, want %d", tc.flags, got, tc.want)
		}
	}
}
