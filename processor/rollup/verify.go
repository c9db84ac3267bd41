package rollup

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Summary is one rollup partition reduced to its key count, totals and a checksum of every key's counts.
type Summary struct {
	Keys                    uint64
	Voices, Incidents, Late uint64
	Checksum                uint64
}

// Diff is one rollup partition whose stored rows differ from what appeals say they should be.
type Diff struct {
	Table     string
	Partition uint32  // YYYYMM, or YYYY for appeal_counts_1mo
	Want, Got Summary // derived from appeals / stored in the rollup
}

func (d Diff) String() string {
	return fmt.Sprintf("%s %d: voices %d (want %d), incidents %d (want %d), late %d (want %d), keys %d (want %d)",
		d.Table, d.Partition, d.Got.Voices, d.Want.Voices, d.Got.Incidents, d.Want.Incidents, d.Got.Late, d.Want.Late, d.Got.Keys, d.Want.Keys)
}

// ProgressDiff is a Kafka partition whose progress record lags the rows stored in appeals.
type ProgressDiff struct {
	Topic        string
	Partition    int32
	Stored       int64 // max kafka_offset in appeals
	Recorded     int64 // max max_offset in appeal_progress; -1 when absent
	MaxEventTime time.Time
}

// Report is what Verify found.
type Report struct {
	Checked  int // rollup partitions compared
	Diffs    []Diff
	Progress []ProgressDiff
}

// Clean reports whether nothing differs.
func (r Report) Clean() bool { return len(r.Diffs) == 0 && len(r.Progress) == 0 }

// farFuture bounds open ranges (DateTime ends in 2106; a bound past 2100 matched nothing on 18.16).
var farFuture = time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC)

// Scope says what to compare.
type Scope struct {
	Since      time.Time           // rollup partitions holding Since and later; zero: all
	Partitions map[string][]uint32 // instead of Since: these partitions of these tables
	Kafka      []KafkaPartition    // progress records to check; nil: all
	// Deep compares every key's counts (a checksum per partition) rather than each partition's totals.
	// Totals catch every way a view misses or repeats an INSERT; deep also catches a row counted under
	// another key, at several times the cost (docs/exactness.md has the figures).
	Deep bool
}

// KafkaPartition names one partition of a raw topic.
type KafkaPartition struct {
	Topic     string
	Partition int32
}

// Verify compares every rollup partition in scope with what appeals derive, and the progress records
// with appeals' highest offsets. It reads consistent figures only while no INSERT runs: callers that
// share the database with a running processor hold the Gate closed around it.
func Verify(ctx context.Context, conn driver.Conn, scope Scope) (Report, error) {
	var rep Report
	for _, t := range Tables {
		parts, explicit := scope.Partitions[t.Name]
		if scope.Partitions != nil && !explicit {
			continue
		}
		want, got, err := summaries(ctx, conn, t, scope.Since, parts, scope.Deep)
		if err != nil {
			return rep, err
		}
		seen := map[uint32]bool{}
		for p := range want {
			seen[p] = true
		}
		for p := range got {
			seen[p] = true
		}
		for _, p := range parts {
			seen[p] = true
		}
		ordered := make([]uint32, 0, len(seen))
		for p := range seen {
			ordered = append(ordered, p)
		}
		sort.Slice(ordered, func(i, j int) bool { return ordered[i] < ordered[j] })
		for _, p := range ordered {
			rep.Checked++
			if want[p] != got[p] {
				rep.Diffs = append(rep.Diffs, Diff{Table: t.Name, Partition: p, Want: want[p], Got: got[p]})
			}
		}
	}
	prog, err := progressDiffs(ctx, conn, scope.Kafka)
	if err != nil {
		return rep, err
	}
	rep.Progress = prog
	return rep, nil
}

// summaries reads both sides of one rollup, per partition.
func summaries(ctx context.Context, conn driver.Conn, t Table, since time.Time, parts []uint32, deep bool) (want, got map[uint32]Summary, err error) {
	from, to := time.Unix(0, 0).UTC(), farFuture
	partWhere := "1"
	var args []any
	switch {
	case len(parts) > 0:
		from, to = t.PartitionStart(parts[0]), t.PartitionEnd(parts[0])
		list := ""
		for i, p := range parts {
			from, to = minTime(from, t.PartitionStart(p)), maxTime(to, t.PartitionEnd(p))
			if i > 0 {
				list += ","
			}
			list += fmt.Sprint(p)
		}
		partWhere = fmt.Sprintf("toUInt32(%s(%s)) IN (%s)", t.Part, t.Window, list)
	case !since.IsZero():
		// A local day or month holding since may start in the partition before (January's month row of
		// the region's calendar lives in the UTC year before).
		from = t.PartitionStart(t.PartitionOf(since.Add(-max(t.Span, day))))
	}
	// A day of slack on the appeals side: the window expression decides the partition, not event_time.
	args = append(args, slackBefore(from), t.eventsUntil(to))
	if partWhere == "1" {
		partWhere = fmt.Sprintf("toUInt32(%s(%s)) >= %d", t.Part, t.Window, t.PartitionOf(from))
	}
	derived, stored := t.totalsSQL(partWhere), t.storedTotalsSQL()
	if deep {
		derived, stored = t.summarySQL(t.derivedSQL(partWhere)), t.summarySQL(t.storedSQL())
	}
	if want, err = readSummaries(ctx, conn, derived, args...); err != nil {
		return nil, nil, fmt.Errorf("rollup: derive %s from appeals: %w", t.Name, err)
	}
	if got, err = readSummaries(ctx, conn, stored, from, to); err != nil {
		return nil, nil, fmt.Errorf("rollup: read %s: %w", t.Name, err)
	}
	if len(parts) > 0 { // the stored side read whole ranges: keep the partitions asked for
		keep := map[uint32]bool{}
		for _, p := range parts {
			keep[p] = true
		}
		for p := range got {
			if !keep[p] {
				delete(got, p)
			}
		}
	}
	return want, got, nil
}

func readSummaries(ctx context.Context, conn driver.Conn, q string, args ...any) (map[uint32]Summary, error) {
	rows, err := conn.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uint32]Summary{}
	for rows.Next() {
		var p uint32
		var s Summary
		if err := rows.Scan(&p, &s.Keys, &s.Voices, &s.Incidents, &s.Late, &s.Checksum); err != nil {
			return nil, err
		}
		out[p] = s
	}
	return out, rows.Err()
}

// progressDiffs finds Kafka partitions whose appeal_progress record is behind appeals (the progress view
// runs last, so an INSERT cut after the appeals part leaves it behind).
func progressDiffs(ctx context.Context, conn driver.Conn, only []KafkaPartition) ([]ProgressDiff, error) {
	filter := ""
	if only != nil {
		if len(only) == 0 {
			return nil, nil
		}
		filter = "WHERE (kafka_topic, kafka_partition) IN (" + tupleList(only) + ")"
	}
	q := fmt.Sprintf(`SELECT a.kafka_topic, a.kafka_partition, a.stored, a.max_event_time, p.recorded, p.n FROM (
			SELECT kafka_topic, kafka_partition, max(kafka_offset) AS stored, max(event_time) AS max_event_time
			FROM appeals %s GROUP BY kafka_topic, kafka_partition) AS a
		ANY LEFT JOIN (
			SELECT kafka_topic, kafka_partition, max(max_offset) AS recorded, count() AS n
			FROM appeal_progress GROUP BY kafka_topic, kafka_partition) AS p
		USING (kafka_topic, kafka_partition)
		ORDER BY kafka_topic, kafka_partition`, filter)
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("rollup: progress: %w", err)
	}
	defer rows.Close()
	var out []ProgressDiff
	for rows.Next() {
		var d ProgressDiff
		var n uint64
		if err := rows.Scan(&d.Topic, &d.Partition, &d.Stored, &d.MaxEventTime, &d.Recorded, &n); err != nil {
			return nil, fmt.Errorf("rollup: progress: %w", err)
		}
		if n == 0 {
			d.Recorded = -1
		}
		if d.Recorded < d.Stored {
			d.MaxEventTime = d.MaxEventTime.UTC()
			out = append(out, d)
		}
	}
	return out, rows.Err()
}

// tupleList writes Kafka partitions as ClickHouse tuples ('topic', n), comma-separated, for an IN list.
func tupleList(kafka []KafkaPartition) string {
	var b strings.Builder
	for i, k := range kafka {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "('%s', %d)", escape(k.Topic), k.Partition)
	}
	return b.String()
}

func escape(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// slackBefore is a day before t, but not before DateTime's first instant.
func slackBefore(t time.Time) time.Time {
	return maxTime(t.Add(-24*time.Hour), time.Unix(0, 0).UTC())
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
