package benchpeer

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// figure is one numeric column of the table.
type figure struct {
	head string
	of   func(Result) float64
	unit string // printf verb
}

var figures = []figure{
	{"messages/s", Result.MessagesPerSec, "%.0f"},
	{"unique/s", Result.UniquePerSec, "%.0f"},
	{"µs/msg proc", func(r Result) float64 { return r.CPUPerMessage(roleProcessor) }, "%.1f"},
	{"µs/msg broker", func(r Result) float64 { return r.CPUPerMessage(roleBroker) }, "%.1f"},
	{"µs/msg CH", func(r Result) float64 { return r.CPUPerMessage(roleClickHouse) }, "%.1f"},
	{"µs/msg redis", func(r Result) float64 { return r.CPUPerMessage(roleRedis) }, "%.1f"},
	{"µs/msg all", func(r Result) float64 { return r.CPUPerMessage("") }, "%.1f"},
	{"MB proc", func(r Result) float64 { return mib(r.PeakKiB[roleProcessor]) }, "%.0f"},
	{"MB broker", func(r Result) float64 { return mib(r.PeakKiB[roleBroker]) }, "%.0f"},
	{"MB CH", func(r Result) float64 { return mib(r.PeakKiB[roleClickHouse]) }, "%.0f"},
	{"MB redis", func(r Result) float64 { return mib(r.PeakKiB[roleRedis]) }, "%.0f"},
	{"fresh p50 ms", func(r Result) float64 { return ms(r.FreshQuantile(0.5)) }, "%.0f"},
	{"fresh p99 ms", func(r Result) float64 { return ms(r.FreshQuantile(0.99)) }, "%.0f"},
}

func mib(kib int64) float64      { return float64(kib) / 1024 }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Mean is a figure's mean over a system's rounds (column as headed in the table).
func (r *Report) Mean(system, head string) float64 {
	for _, f := range figures {
		if f.head == head {
			return r.meanOf(system, f.of)
		}
	}
	return math.NaN()
}

// Ratio is teplokarta's mean of a figure over the peer's (NaN where the peer's is 0).
func (r *Report) Ratio(head string) float64 {
	p := r.Mean(SystemPeer, head)
	if p == 0 {
		return math.NaN()
	}
	return r.Mean(SystemTeplokarta, head) / p
}

// PrintTable writes the legend and the table: a row per drain, the means per system, and the ratio.
func PrintTable(w io.Writer, r *Report) {
	fmt.Fprintf(w, "bench-peer: backlog %d messages (%d unique appeals; the rest are retries, byte-for-byte re-sends), seed %d, %d round(s), %s\n",
		r.Messages, r.Unique, r.Seed, r.Rounds, r.Started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "machine: %d CPUs, load average %s at start, %s at end (other jobs' load included)\n", r.CPUs, r.LoadStart, r.LoadEnd)
	if len(r.ProcessFlags) > 0 {
		fmt.Fprintf(w, "teplokarta process with: %s\n", strings.Join(r.ProcessFlags, " "))
	}
	fmt.Fprint(w, `messages: records drained from appeals.raw.* (retries and earlier freshness probes included); unique: distinct appeals among them;
rows: rows written to appeals (its rollups' total). peer = ClickHouse's Kafka engine + views into appeals and the rollups: one row
per record (more if the engine re-read records: at-least-once), no dedup/classification/PII masking. teplokarta = bin/teplokarta
process: one row per unique appeal. drain s: consumption start to all rows stored and the consumers' lag 0.
µs/msg: user+system CPU of each process during the drain ÷ messages (proc = the teplokarta processor; CH = clickhouse-server,
from the drain's start until it is idle again after it: its merges of the drain's parts included; each phase starts on an idle CH).
MB: peak RSS (VmHWM) in the drain, MiB. fresh: one new message produced into the idle pipeline → its row visible in appeals.
`)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "round\torder\tsystem\tmessages\tunique\trows\tdrain s")
	for _, f := range figures {
		fmt.Fprint(tw, "\t"+f.head)
	}
	fmt.Fprintln(tw, "\t")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%d\t%d\t%.1f", res.Round, res.Position, res.System, res.Messages, res.Unique, res.Rows, res.Took.Seconds())
		for _, f := range figures {
			fmt.Fprintf(tw, "\t"+f.unit, f.of(res))
		}
		fmt.Fprintln(tw, "\t")
	}
	for _, sys := range []string{SystemPeer, SystemTeplokarta} {
		fmt.Fprintf(tw, "mean\t\t%s\t\t\t\t", sys)
		for _, f := range figures {
			fmt.Fprintf(tw, "\t"+f.unit, r.Mean(sys, f.head))
		}
		fmt.Fprintln(tw, "\t")
	}
	fmt.Fprint(tw, "ratio\t\tteplokarta/peer\t\t\t\t")
	for _, f := range figures {
		if v := r.Ratio(f.head); math.IsNaN(v) {
			fmt.Fprint(tw, "\t—")
		} else {
			fmt.Fprintf(tw, "\t%.2f", v)
		}
	}
	fmt.Fprintln(tw, "\t")
	_ = tw.Flush()
}

// Target is one of issue 15's goals for teplokarta on the benchmark's machine (all servers sharing it).
type Target struct {
	What   string
	Limit  float64
	AtMost bool // the figure must stay at or below Limit (else at or above)
	Of     func(*Report) float64
}

// Targets are the goals the table is read against: throughput against the peer on the same backlog,
// CPU per message of the processor and Redis, ClickHouse's CPU per stored row, the processor's peak RSS.
var Targets = []Target{
	{"messages/s, teplokarta ÷ peer", 0.5, false, func(r *Report) float64 { return r.Ratio("messages/s") }},
	{"processor CPU µs per message", 40, true, func(r *Report) float64 { return r.Mean(SystemTeplokarta, "µs/msg proc") }},
	{"Redis CPU µs per message", 10, true, func(r *Report) float64 { return r.Mean(SystemTeplokarta, "µs/msg redis") }},
	{"ClickHouse CPU µs per stored row", 30, true, func(r *Report) float64 { return r.meanOf(SystemTeplokarta, Result.clickHousePerRow) }},
	{"processor peak RSS MiB", 300, true, func(r *Report) float64 { return r.Mean(SystemTeplokarta, "MB proc") }},
}

// clickHousePerRow is ClickHouse's CPU in µs per row written to appeals (its rollups' writes included).
func (r Result) clickHousePerRow() float64 {
	if r.Rows == 0 {
		return math.NaN()
	}
	return r.CPU[roleClickHouse].Seconds() * 1e6 / float64(r.Rows)
}

// meanOf is the mean of of over a system's rounds (NaN without any).
func (r *Report) meanOf(system string, of func(Result) float64) float64 {
	sum, n := 0.0, 0
	for _, res := range r.Results {
		if res.System == system {
			sum, n = sum+of(res), n+1
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// Met reports whether the run's figure meets the target (false when the run lacks the figure).
func (t Target) Met(r *Report) bool {
	v := t.Of(r)
	switch {
	case math.IsNaN(v):
		return false
	case t.AtMost:
		return v <= t.Limit
	default:
		return v >= t.Limit
	}
}

// PrintTargets writes each target, teplokarta's mean figure and whether it is met.
func PrintTargets(w io.Writer, r *Report) {
	fmt.Fprintln(w, "\ntargets (issue 15), teplokarta's means over the rounds:")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, t := range Targets {
		op, verdict := "≥", "missed"
		if t.AtMost {
			op = "≤"
		}
		if t.Met(r) {
			verdict = "met"
		}
		fmt.Fprintf(tw, "  %s\t%s %g\t%.2f\t%s\n", t.What, op, t.Limit, t.Of(r), verdict)
	}
	_ = tw.Flush()
}
