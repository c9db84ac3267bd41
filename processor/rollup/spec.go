// Package rollup keeps the tables that ClickHouse's materialized views fill from appeals — the window
// rollups and the processor's progress record — equal to appeals. A view is not atomic with its source
// table (on 18.16 nor on 25.8): ClickHouse commits the appeals part first and then runs the views one by
// one, so an INSERT that fails midway (a view's error, a server killed, a disk full) can leave rows in
// appeals that some rollups lack. Verify finds such differences per rollup partition; Repair rebuilds a
// differing partition from appeals and swaps it in whole (REPLACE PARTITION), while a Gate keeps every
// writer out for the moment it takes.
package rollup

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/model"
)

// Table describes one rollup the way its materialized view builds it (schemas/clickhouse/0002, 0005, 0012):
// the window expression over appeals.event_time, the key columns besides window_start, and the partition
// expression over window_start. TestSpecsMatchTheViews checks these against what the views write.
type Table struct {
	Name   string
	Window string   // SQL over event_time (and tz_offset) giving window_start
	Keys   []string // key columns copied from appeals
	Part   string   // "toYYYYMM" or "toYear": the table's PARTITION BY over window_start
	// Local gives window_start in Go for windows of the region's calendar (day, month); nil for minute and
	// hour windows, which are the UTC ones for whole-hour offsets.
	Local func(t time.Time, loc *time.Location) time.Time
	// Span is the longest window: the events of a partition's windows reach this far past its end (a local
	// month starting on the last UTC day of a year holds the whole next month).
	Span time.Duration
}

// The region's calendar (0012): the UTC instant of the local midnight / first of month, shifting by the
// row's offset (tz_offset) of its region's zone at the event.
const (
	dayExpr   = "toDateTime(toStartOfDay(toDateTime(toUInt32(event_time) + tz_offset))) - tz_offset"
	monthExpr = "toDateTime(toStartOfMonth(toDateTime(toUInt32(event_time) + tz_offset))) - tz_offset"
)

var (
	keys   = []string{"region", "oktmo", "category", "source"}
	keysTA = []string{"region", "oktmo", "category", "theme", "agency", "source"}
	day    = 24 * time.Hour
)

// Tables are the rollups the migrations create, each filled by a view from appeals.
var Tables = []Table{
	{Name: "appeal_counts_1m", Window: "toStartOfMinute(event_time)", Keys: keys, Part: "toYYYYMM", Span: time.Minute},
	{Name: "appeal_counts_1h", Window: "toStartOfHour(event_time)", Keys: keysTA, Part: "toYYYYMM", Span: time.Hour},
	{Name: "appeal_counts_1d", Window: dayExpr, Keys: keysTA, Part: "toYYYYMM", Local: model.LocalDay, Span: day},
	{Name: "appeal_counts_1mo", Window: monthExpr, Keys: keys, Part: "toYear", Local: model.LocalMonth, Span: 32 * day},
	{Name: "appeal_counts_oktmo_1d", Window: dayExpr, Keys: keys, Part: "toYYYYMM", Local: model.LocalDay, Span: day},
}

// CalendarMigration is the migration that moved day and month windows to the region's calendar.
const CalendarMigration = "0012_region_calendar"

// The rollups kept before 0012 hold UTC days and months: after its views are replaced, every partition of
// the local-calendar rollups is rebuilt from appeals (Check with repair; no gate — `teplokarta migrate`
// runs with the processors stopped, or `teplokarta verify --repair` settles what a running one wrote).
func init() {
	chstore.RegisterAfter(CalendarMigration, func(ctx context.Context, conn driver.Conn, auth chstore.Auth) error {
		// Deep: moving rows from UTC to local days keeps most partitions' totals, only every key's
		// window changes.
		scope := Scope{Partitions: map[string][]uint32{}, Kafka: []KafkaPartition{}, Deep: true}
		for _, t := range Tables {
			if t.Local != nil {
				scope.Partitions[t.Name] = nil // nil: every partition
			}
		}
		_, err := NewChecker(conn, nil, slog.Default()).WithAuth(auth).Check(ctx, scope, true)
		return err
	})
}

// WindowOf is the window_start of a's row in t.
func (t Table) WindowOf(a *model.Appeal) time.Time {
	if t.Local == nil {
		return a.EventTime.UTC()
	}
	return t.Local(a.EventTime, model.RegionLocation(a.Region))
}

// eventsUntil bounds the event times of rows whose windows start before end.
func (t Table) eventsUntil(end time.Time) time.Time { return end.Add(max(t.Span, day)) }

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
func (t Table) derivedSQL(where string) string { return t.derivedSQLFrom("appeals", where) }

// derivedSQLFrom is derivedSQL over another appeals table (a shard's own appeals_local).
func (t Table) derivedSQLFrom(appeals, where string) string {
	return fmt.Sprintf(`SELECT %s AS window_start, %s, toUInt64(sum(is_incident)) AS incidents, toUInt64(count()) AS voices,
		toUInt64(sum(is_late)) AS late
	FROM %s FINAL
	WHERE event_time >= ? AND event_time < ? AND %s
	GROUP BY window_start, %s`, t.Window, t.keyList(), appeals, where, t.keyList())
}

// summarySQL reduces a rollup-shaped subquery to one row per partition: key count, the three totals and
// an order-free checksum over every key and its counts.
func (t Table) summarySQL(sub string) string {
	return fmt.Sprintf(`SELECT toUInt32(%s(window_start)) AS part, count(), sum(voices), sum(incidents), sum(late),
		sum(cityHash64(window_start, %s, voices, incidents, late))
	FROM (%s) GROUP BY part ORDER BY part`, t.Part, t.keyList(), sub)
}

// totalsSQL reduces appeals to one row per rollup partition: the three totals the rollup must hold there
// (key count and checksum left 0). Every way a view can miss or repeat an INSERT's block changes them.
func (t Table) totalsSQL(where string) string {
	return fmt.Sprintf(`SELECT toUInt32(%s(%s)) AS part, toUInt64(0), count(), toUInt64(sum(is_incident)), toUInt64(sum(is_late)), toUInt64(0)
	FROM appeals FINAL
	WHERE event_time >= ? AND event_time < ? AND %s
	GROUP BY part ORDER BY part`, t.Part, t.Window, where)
}

// storedTotalsSQL is totalsSQL's counterpart over the rollup itself.
func (t Table) storedTotalsSQL() string {
	return fmt.Sprintf(`SELECT toUInt32(%s(window_start)) AS part, toUInt64(0), sum(voices) AS v, sum(incidents) AS i, sum(late) AS l, toUInt64(0)
	FROM %s WHERE window_start >= ? AND window_start < ?
	GROUP BY part HAVING v != 0 OR i != 0 OR l != 0 ORDER BY part`, t.Part, t.Name)
}

// storedSQL reads the rollup as its readers do (sum() per key), dropping keys whose sums are all zero:
// SummingMergeTree drops such rows when it merges.
func (t Table) storedSQL() string {
	return fmt.Sprintf(`SELECT window_start, %s, sum(voices) AS voices, sum(incidents) AS incidents, sum(late) AS late
	FROM %s WHERE window_start >= ? AND window_start < ?
	GROUP BY window_start, %s HAVING voices != 0 OR incidents != 0 OR late != 0`, t.keyList(), t.Name, t.keyList())
}
