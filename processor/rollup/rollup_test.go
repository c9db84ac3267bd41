package rollup_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/rollup"
	"github.com/teplokarta/teplokarta/processor/sink"
)

var t0 = time.Date(2025, 12, 31, 22, 0, 0, 0, time.UTC) // two hours before a year boundary

// rows builds n appeals of one Kafka partition from offset first on, one every 37 s of event time, over
// several municipalities, categories, themes and agencies, some late, some voices.
func rows(topic string, partition int, first int64, n int) []*model.Appeal {
	oktmos := []string{"61701000", "61705000", "61650000"}
	cats := []string{"Дороги", "ЖКХ", "Благоустройство", ""}
	out := make([]*model.Appeal, n)
	for i := range out {
		off := first + int64(i)
		id := fmt.Sprintf("%s-%d-%d", topic, partition, off)
		out[i] = &model.Appeal{ID: id, Source: model.SourceOfTopic(topic), SourceID: id, Region: model.DefaultRegion,
			OKTMO: oktmos[off%3], Category: cats[off%4], Theme: fmt.Sprint("тема ", off%5), Agency: fmt.Sprint("ведомство ", off%2),
			EventTime: t0.Add(time.Duration(off) * 37 * time.Second), ReceivedTime: t0, IncidentID: id, IsIncident: off%3 != 1,
			IsLate: off%7 == 0, Origin: model.Offset{Topic: topic, Partition: partition, Offset: off}}
	}
	return out
}

func migrated(t testing.TB) driver.Conn {
	t.Helper()
	conn, _ := testenv.ClickHouse(t)
	if _, err := chstore.MigrateProject(context.Background(), conn); err != nil {
		t.Fatal(err)
	}
	return conn
}

func write(t testing.TB, conn driver.Conn, batch []*model.Appeal) {
	t.Helper()
	if err := sink.New(conn, sink.Config{}, nil).Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

func exec(t testing.TB, conn driver.Conn, q string) {
	t.Helper()
	if err := conn.Exec(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// The specs describe what the views write: over rows spanning a year boundary, every key and count
// of every rollup equals what Verify derives from appeals, and the progress records agree.
func TestSpecsMatchTheViews(t *testing.T) {
	conn := migrated(t)
	write(t, conn, rows("appeals.raw.vk", 0, 0, 500))
	write(t, conn, rows("appeals.raw.pos", 2, 0, 400))
	rep, err := rollup.Verify(context.Background(), conn, rollup.Scope{Deep: true}) // every key: a window expression off by hours keeps the totals
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() {
		t.Fatalf("a healthy database differs: %v %v", rep.Diffs, rep.Progress)
	}
	// Two UTC months for the minute and hour rollups; one for the day and month rollups, whose windows
	// all start in 2025 (the rows begin after the local new year, 21:00 UTC).
	want := 0
	for _, ps := range rollup.ScopeOf(append(rows("appeals.raw.vk", 0, 0, 500), rows("appeals.raw.pos", 2, 0, 400)...)).Partitions {
		want += len(ps)
	}
	if rep.Checked != want || want != 7 {
		t.Fatalf("checked %d rollup partitions, want %d (7)", rep.Checked, want)
	}
}

// An INSERT whose appeals part landed while some views did not (here: the minute and month views
// detached while it ran, as a view failing midway leaves them): Verify names exactly those rollups'
// partitions, Check with repair rebuilds them, and every rollup then equals appeals, without double
// counting the rows the other views had.
func TestViewsMissedByAnInsertAreFoundAndRepaired(t *testing.T) {
	conn := migrated(t)
	ctx := context.Background()
	write(t, conn, rows("appeals.raw.vk", 0, 0, 100))
	exec(t, conn, "DETACH TABLE appeal_counts_1m_mv")
	exec(t, conn, "DETACH TABLE appeal_progress_mv")
	write(t, conn, rows("appeals.raw.vk", 0, 100, 500)) // crosses into 2026
	exec(t, conn, "ATTACH TABLE appeal_counts_1m_mv")
	exec(t, conn, "ATTACH TABLE appeal_progress_mv")
	checker := rollup.NewChecker(conn, nil, nil)
	rep, err := checker.Check(ctx, rollup.Scope{}, false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range rep.Diffs {
		names = append(names, fmt.Sprint(d.Table, " ", d.Partition))
	}
	if fmt.Sprint(names) != "[appeal_counts_1m 202512 appeal_counts_1m 202601]" {
		t.Fatalf("differences found: %v, want the minute rollup's two months", names)
	}
	if len(rep.Progress) != 1 || rep.Progress[0].Stored != 599 || rep.Progress[0].Recorded != 99 {
		t.Fatalf("progress differences %+v, want vk/0 recorded 99, stored 599", rep.Progress)
	}
	if _, err := checker.Check(ctx, rollup.Scope{}, true); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"appeal_counts_1m", "appeal_counts_1h", "appeal_counts_1d", "appeal_counts_1mo", "appeal_counts_oktmo_1d"} {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT sum(voices) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 600 {
			t.Errorf("%s holds %d appeals after the repair, want 600", table, n)
		}
	}
	var off int64
	if err := conn.QueryRow(ctx, "SELECT max(max_offset) FROM appeal_progress").Scan(&off); err != nil || off != 599 {
		t.Fatalf("progress %d (%v), want 599", off, err)
	}
	again, err := rollup.Verify(ctx, conn, rollup.Scope{})
	if err != nil || !again.Clean() {
		t.Fatalf("after the repair: %v %v %v", again.Diffs, again.Progress, err)
	}
}

// A repair counts nothing twice: a rollup partition that holds too much (an INSERT retried after some
// views had run) is rebuilt to exactly what appeals say.
func TestOvercountedPartitionIsRebuilt(t *testing.T) {
	conn := migrated(t)
	ctx := context.Background()
	batch := rows("appeals.raw.112", 1, 0, 200)
	write(t, conn, batch)
	exec(t, conn, `INSERT INTO appeal_counts_1h (window_start, region, oktmo, category, theme, agency, source, incidents, voices, late)
		SELECT window_start, region, oktmo, category, theme, agency, source, incidents, voices, late FROM appeal_counts_1h`)
	rep, err := rollup.NewChecker(conn, nil, nil).Check(ctx, rollup.Scope{Since: t0}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Diffs) != 2 || rep.Diffs[0].Got.Voices != 2*rep.Diffs[0].Want.Voices {
		t.Fatalf("diffs %v, want the hour rollup's two months counted twice", rep.Diffs)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT sum(voices) FROM appeal_counts_1h").Scan(&n); err != nil || n != 200 {
		t.Fatalf("hour rollup holds %d (%v), want 200", n, err)
	}
}

// Before a processor resumes a partition, the views of that partition's last rows are checked and
// repaired: a crash between the appeals part and the views (a ClickHouse killed mid-INSERT) is healed
// before the progress record is read, so the partition neither re-inserts rows nor leaves them uncounted.
func TestCheckResumedHealsTheLastInsert(t *testing.T) {
	conn := migrated(t)
	ctx := context.Background()
	write(t, conn, rows("appeals.raw.pos", 3, 0, 300))
	exec(t, conn, "DETACH TABLE appeal_counts_1h_mv")
	exec(t, conn, "DETACH TABLE appeal_progress_mv")
	write(t, conn, rows("appeals.raw.pos", 3, 300, 100))
	exec(t, conn, "ATTACH TABLE appeal_counts_1h_mv")
	exec(t, conn, "ATTACH TABLE appeal_progress_mv")
	if err := rollup.NewChecker(conn, nil, nil).CheckResumed(ctx, map[string][]int{"appeals.raw.pos": {3}}, 150); err != nil {
		t.Fatal(err)
	}
	rep, err := rollup.Verify(ctx, conn, rollup.Scope{})
	if err != nil || !rep.Clean() {
		t.Fatalf("after the resume check: %v %v %v", rep.Diffs, rep.Progress, err)
	}
}

// A row counted under another key (here: one category's counts moved to another) leaves every total
// right: only the deep comparison finds it, and the repair puts it back.
func TestDeepFindsARowUnderAnotherKey(t *testing.T) {
	conn := migrated(t)
	ctx := context.Background()
	write(t, conn, rows("appeals.raw.vk", 0, 0, 120))
	exec(t, conn, `INSERT INTO appeal_counts_1m (window_start, region, oktmo, category, source, incidents, voices, late)
		SELECT window_start, region, oktmo, 'чужая категория', source, incidents, voices, late FROM appeal_counts_1m WHERE category = 'ЖКХ'`)
	exec(t, conn, `INSERT INTO appeal_counts_1m (window_start, region, oktmo, category, source, incidents, voices, late)
		SELECT window_start, region, oktmo, category, source, -incidents, -voices, -late FROM appeal_counts_1m WHERE category = 'ЖКХ'`)
	if rep, err := rollup.Verify(ctx, conn, rollup.Scope{}); err != nil || !rep.Clean() {
		t.Fatalf("totals: %v %v (totals are unchanged, so nothing should differ)", rep.Diffs, err)
	}
	rep, err := rollup.NewChecker(conn, nil, nil).Check(ctx, rollup.Scope{Deep: true}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Diffs) != 1 || rep.Diffs[0].Table != "appeal_counts_1m" {
		t.Fatalf("deep found %v, want the minute rollup's one partition", rep.Diffs)
	}
	var moved uint64
	if err := conn.QueryRow(ctx, "SELECT sum(voices) FROM appeal_counts_1m WHERE category = 'чужая категория'").Scan(&moved); err != nil || moved != 0 {
		t.Fatalf("after the repair %d appeals still under the wrong category (%v)", moved, err)
	}
}
