// Package rollup keeps the tables that ClickHouse's materialized views fill from appeals — the window
// rollups and the processor's progress record — equal to appeals. A view is not atomic with its source
// table (on 18.16 nor on 25.8): ClickHouse commits the appeals part first and then runs the views one by
// one, so an INSERT that fails midway (a view's error, a server killed, a disk full) can leave rows in
// appeals that some rollups lack. Verify finds such differences per rollup partition; Repair rebuilds a
// differing partition from appeals and swaps it in whole (REPLACE PARTITION), while a Gate keeps every
// writer out for the moment it takes.
package rollup

import (
	"fmt"
	"strings"
	"time"
)

// Table describes one rollup the way its materialized view builds it (schemas/clickhouse/0002, 0005):
// the window expression over appeals.event_time, the key columns besides window_start, and the partition
// expression over window_start. TestSpecsMatchTheViews checks these against what the views write.
type Table struct {
	Name   string
	Window string   // SQL over event_time giving window_start
	Keys   []string // key columns copied from appeals
	Part   string   // "toYYYYMM" or "toYear": the table's PARTITION BY over window_start
}

var (
	keys    = []string{"region", "oktmo", "category", "source"}
	keysTA  = []string{"region", "oktmo", "category", "theme", "agency", "source"}
	dayExpr = "toDateTime(toStartOfDay(event_time))"
)

// Tables are the rollups the migrations create, each filled by a view from appeals.
var Tables = []Table{
	{Name: "appeal_counts_1m", Window: "toStartOfMinute(event_time)", Keys: keys, Part: "toYYYYMM"},
	{Name: "appeal_counts_1h", Window: "toStartOfHour(event_time)", Keys: keysTA, Part: "toYYYYMM"},
	{Name: "appeal_counts_1d", Window: dayExpr, Keys: keysTA, Part: "toYYYYMM"},
	{Name: "appeal_counts_1mo", Window: "toDateTime(toStartOfMonth(event_time))", Keys: keys, Part: "toYear"},
	{Name: "appeal_counts_oktmo_1d", Window: dayExpr, Keys: keys, Part: "toYYYYMM"},
}

// TableByName returns the rollup called name.
func TableByName(name string) (Table, bool) {
	for _, t := range Tables {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}

// PartitionStart is the first instant of rollup partition p (YYYYMM or YYYY) in UTC, the server's zone of
// window_start, and PartitionEnd the first instant after it.
func (t Table) PartitionStart(p uint32) time.Time {
	if t.Part == "toYear" {
		return time.Date(int(p), 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(int(p/100), time.Month(p%100), 1, 0, 0, 0, 0, time.UTC)
}

// PartitionEnd is the first instant after partition p.
func (t Table) PartitionEnd(p uint32) time.Time {
	if t.Part == "toYear" {
		return t.PartitionStart(p).AddDate(1, 0, 0)
	}
	return t.PartitionStart(p).AddDate(0, 1, 0)
}

// PartitionOf names the partition holding instant at.
func (t Table) PartitionOf(at time.Time) uint32 {
	at = at.UTC()
	if t.Part == "toYear" {
		return uint32(at.Year())
	}
	return uint32(at.Year()*100 + int(at.Month()))
}

func (t Table) keyList() string { return strings.Join(t.Keys, ", ") }

// derivedSQL aggregates appeals (FINAL: a row stored twice counts once, as the rollups should) into the
// rollup's rows for event times in [from, to), restricted to the partitions the caller names in where.
func (t Table) derivedSQL(where string) string {
	return fmt.Sprintf(`SELECT %s AS window_start, %s, toUInt64(sum(is_incident)) AS incidents, toUInt64(count()) AS voices,
		toUInt64(sum(is_late)) AS late
	FROM appeals FINAL
	WHERE event_time >= ? AND event_time < ? AND %s
	GROUP BY window_start, %s`, t.Window, t.keyList(), where, t.keyList())
}

// summarySQL reduces a rollup-shaped subquery to one row per partition: key count, the three totals and
// an order-free checksum over every key and its counts.
func (t Table) summarySQL(sub string) string {
	return fmt.Sprintf(`SELECT toUInt32(%s(window_start)) AS part, count(), sum(voices), sum(incidents), sum(late),
		sum(cityHash64(window_start, %s, voices, incidents, late))
	FROM (%s) GROUP BY part ORDER BY part`, t.Part, t.keyList(), sub)
}

// storedSQL reads the rollup as its readers do (sum() per key), dropping keys whose sums are all zero:
// SummingMergeTree drops such rows when it merges.
func (t Table) storedSQL() string {
	return fmt.Sprintf(`SELECT window_start, %s, sum(voices) AS voices, sum(incidents) AS incidents, sum(late) AS late
	FROM %s WHERE window_start >= ? AND window_start < ?
	GROUP BY window_start, %s HAVING voices != 0 OR incidents != 0 OR late != 0`, t.keyList(), t.Name, t.keyList())
}
