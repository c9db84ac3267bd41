package rollup_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/rollup"
)

// 00:30 MSK on 1 January 2027: the new day, month and year in Ryazan, still 2026 in UTC.
var newYear = time.Date(2026, 12, 31, 21, 30, 0, 0, time.UTC)

// localMidnight is the UTC instant of 1 January 2027 00:00 MSK.
var localMidnight = time.Date(2026, 12, 31, 21, 0, 0, 0, time.UTC)

func newYearAppeal(id string, offset int64) *model.Appeal {
	return &model.Appeal{ID: id, Source: model.SourceVK, SourceID: id, Region: model.DefaultRegion, OKTMO: "61701000",
		Category: "ЖКХ", EventTime: newYear, ReceivedTime: newYear, IncidentID: id, IsIncident: true,
		Origin: model.Offset{Topic: "appeals.raw.vk", Partition: 0, Offset: offset}}
}

// windowsOf reads each rollup's window starts and the local year ClickHouse gives them (toYear of the
// window shifted into Moscow time, as the plugin's planning reads it).
func windowsOf(t *testing.T, conn driver.Conn) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tab := range rollup.Tables {
		var ws time.Time
		var year uint16
		var n uint64
		err := conn.QueryRow(context.Background(), fmt.Sprintf(
			"SELECT any(window_start), toUInt16(toYear(any(window_start), 'Europe/Moscow')), sum(voices) FROM %s", tab.Name)).Scan(&ws, &year, &n)
		if err != nil {
			t.Fatal(err)
		}
		out[tab.Name] = fmt.Sprintf("%s %d n=%d", ws.UTC().Format(time.RFC3339), year, n)
	}
	return out
}

// The 1 January 00:30 MSK appeal is in day 2027-01-01, month 2027-01 and year 2027 in every rollup: the
// day and month windows start at the local midnight (2026-12-31T21:00Z), the minute and hour windows are
// the UTC ones, and a healthy database has nothing to repair.
func TestNewYearAppealInTheRegionsCalendar(t *testing.T) {
	conn := migrated(t)
	write(t, conn, []*model.Appeal{newYearAppeal("vk:1", 0)})
	var off int32
	if err := conn.QueryRow(context.Background(), "SELECT tz_offset FROM appeals").Scan(&off); err != nil || off != 3*3600 {
		t.Fatalf("tz_offset %d (%v), want 10800 (Moscow)", off, err)
	}
	want := map[string]string{
		"appeal_counts_1m":       "2026-12-31T21:30:00Z 2027 n=1",
		"appeal_counts_1h":       "2026-12-31T21:00:00Z 2027 n=1",
		"appeal_counts_1d":       "2026-12-31T21:00:00Z 2027 n=1",
		"appeal_counts_1mo":      "2026-12-31T21:00:00Z 2027 n=1",
		"appeal_counts_oktmo_1d": "2026-12-31T21:00:00Z 2027 n=1",
	}
	got := windowsOf(t, conn)
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: window %s, want %s", name, got[name], w)
		}
	}
	for _, tab := range rollup.Tables {
		if tab.Local != nil {
			if w := tab.WindowOf(newYearAppeal("x", 0)); !w.Equal(localMidnight) {
				t.Errorf("%s: Go window %s, want %s", tab.Name, w, localMidnight)
			}
		}
	}
	rep, err := rollup.NewChecker(conn, nil, nil).Check(context.Background(), rollup.Scope{Deep: true}, false)
	if err != nil || !rep.Clean() {
		t.Fatalf("a healthy database differs: %v %v %v", rep.Diffs, rep.Progress, err)
	}
	// The sink's own settle scope names the partitions the rows landed in.
	scope := rollup.ScopeOf([]*model.Appeal{newYearAppeal("vk:1", 0)})
	if fmt.Sprint(scope.Partitions["appeal_counts_1mo"], scope.Partitions["appeal_counts_1d"]) != "[2026] [202612]" {
		t.Fatalf("scope %v, want the month rollup's 2026 and the day rollup's 202612", scope.Partitions)
	}
}

// A database kept by the old schema (UTC days and months, no tz_offset) with rows in its rollups: the
// calendar migration replaces the views and rebuilds the rollups from appeals in local days — every row,
// once — and leaves nothing for the checker to repair.
func TestCalendarMigrationRebuildsUTCRollups(t *testing.T) {
	ctx := context.Background()
	cfg := testenv.ClickHouseConfig(t)
	conn, err := chstore.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+cfg.Database)
		conn.Close()
	})
	all := chstore.ProjectMigrations()
	var old []chstore.Migration
	for _, m := range all {
		if m.ID < rollup.CalendarMigration {
			old = append(old, m)
		}
	}
	if len(old) == len(all) {
		t.Fatalf("no migration %s among %d", rollup.CalendarMigration, len(all))
	}
	if _, err := chstore.Migrate(ctx, conn, old); err != nil {
		t.Fatal(err)
	}
	// The old sink's columns: 40 rows every 90 s around the local new year, half of them before it.
	b, err := conn.PrepareBatch(ctx, `INSERT INTO appeals (appeal_id, source, source_id, region, oktmo, category, theme,
		agency, event_time, received_time, processed_time, status, incident_id, is_incident, is_late, kafka_topic,
		kafka_partition, kafka_offset, version)`)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		at := localMidnight.Add(time.Duration(i-20) * 90 * time.Second)
		id := fmt.Sprint("vk:", i)
		if err := b.Append(id, "vk", id, model.DefaultRegion, "61701000", "ЖКХ", "тема", "ведомство", at, at, at, "new",
			id, uint8(1), uint8(0), "appeals.raw.vk", int32(0), int64(i), uint64(1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	before := windowsOf(t, conn)
	if !strings.HasPrefix(before["appeal_counts_1mo"], "2026-12-01T00:00:00Z") {
		t.Fatalf("old schema's month rollup starts %s, want the UTC December", before["appeal_counts_1mo"])
	}
	applied, err := chstore.Migrate(ctx, conn, all)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(applied) != "["+rollup.CalendarMigration+"]" {
		t.Fatalf("applied %v", applied)
	}
	for _, tab := range []string{"appeal_counts_1d", "appeal_counts_1mo", "appeal_counts_oktmo_1d"} {
		rows, err := conn.Query(ctx, fmt.Sprintf("SELECT window_start, sum(voices) FROM %s GROUP BY window_start ORDER BY window_start", tab))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var ws time.Time
			var n uint64
			if err := rows.Scan(&ws, &n); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s=%d", ws.UTC().Format(time.RFC3339), n))
		}
		rows.Close()
		var want string
		switch tab {
		case "appeal_counts_1mo":
			want = "[2026-11-30T21:00:00Z=20 2026-12-31T21:00:00Z=20]"
		default:
			want = "[2026-12-30T21:00:00Z=20 2026-12-31T21:00:00Z=20]"
		}
		if fmt.Sprint(got) != want {
			t.Errorf("%s after the migration: %v, want %s", tab, got, want)
		}
	}
	rep, err := rollup.Verify(ctx, conn, rollup.Scope{Deep: true})
	if err != nil || !rep.Clean() {
		t.Fatalf("after the migration: %v %v %v", rep.Diffs, rep.Progress, err)
	}
	// Rows the new views see carry the processor's offset; old rows read the default (Moscow).
	var offs string
	if err := conn.QueryRow(ctx, "SELECT toString(groupUniqArray(tz_offset)) FROM appeals").Scan(&offs); err != nil || offs != "[10800]" {
		t.Fatalf("old rows' tz_offset %s (%v), want [10800]", offs, err)
	}
}
