package window

import (
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
)

func at(min int) time.Time {
	return time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC).Add(time.Duration(min) * time.Minute)
}

func TestLatenessAndWatermark(t *testing.T) {
	w, err := New(Config{Sizes: []time.Duration{time.Minute, time.Hour}, AllowedLateness: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		event int
		late  bool
	}{
		{0, false},  // first event: no watermark yet
		{10, false}, // watermark → 10:08
		{9, false},  // its minute ends 10:10, after the watermark: still open
		{7, true},   // its minute ended 10:08: the window is closed, a correction
		{20, false}, // watermark → 10:18
		{17, true},
	}
	for _, tc := range tests {
		a := &model.Appeal{EventTime: at(tc.event), Region: "RU-RYA", OKTMO: "61701000", Category: "ЖКХ", Source: "vk", IsIncident: true}
		wm := w.Observe("appeals.raw.vk", 0, []*model.Appeal{a})
		if a.IsLate != tc.late {
			t.Errorf("event at +%d min: late=%v, want %v", tc.event, a.IsLate, tc.late)
		}
		w.Commit("appeals.raw.vk", 0, wm, w.Tally([]*model.Appeal{a}))
	}
	if got := w.Watermark("appeals.raw.vk", 0); !got.Equal(at(18)) {
		t.Fatalf("watermark %s, want %s", got, at(18))
	}
	closed := w.Flush(false)
	var minutes, late uint64
	for _, c := range closed {
		if c.Size == time.Hour {
			t.Fatalf("the hour window is still open at watermark 10:18 but was flushed: %+v", c)
		}
		minutes += c.Voices
		late += c.Late
	}
	if minutes != 5 || late != 2 { // all minute windows but 10:20 are closed; the two corrections counted
		t.Fatalf("closed minute windows hold %d appeals (%d late), want 5 (2 late)", minutes, late)
	}
	rest := w.Flush(true)
	var total uint64
	for _, c := range rest {
		total += c.Voices
	}
	if total != 1+6 { // the open 10:20 minute and the hour window with every appeal
		t.Fatalf("forced flush holds %d, want 7", total)
	}
}

func TestRestoreContinuesTheWatermark(t *testing.T) {
	w, _ := New(DefaultConfig())
	w.Restore("t", 1, at(30))
	a := &model.Appeal{EventTime: at(20)}
	w.Commit("t", 1, w.Observe("t", 1, []*model.Appeal{a}), nil)
	if !a.IsLate {
		t.Fatal("after a restart an event older than the stored progress minus lateness must be late")
	}
	w.Restore("t", 1, at(5)) // never moves backwards
	if !w.Watermark("t", 1).Equal(at(28)) {
		t.Fatalf("watermark %s", w.Watermark("t", 1))
	}
}

// A batch that was not stored (the sink failed) is read again: it must be judged against the watermark the
// partition had before it, or its own events would become "late" corrections of themselves.
func TestWatermarkMovesOnlyAfterTheBatchIsStored(t *testing.T) {
	w, _ := New(DefaultConfig())
	w.Restore("t", 0, at(0))
	batch := []*model.Appeal{{EventTime: at(10)}, {EventTime: at(11)}}
	wm := w.Observe("t", 0, batch)
	if !wm.Equal(at(9)) {
		t.Fatalf("Observe returned %s, want %s", wm, at(9))
	}
	if got := w.Watermark("t", 0); !got.Equal(at(-2)) {
		t.Fatalf("watermark moved to %s before the batch was stored", got)
	}
	// The retry of the same batch, after the failed store.
	again := []*model.Appeal{{EventTime: at(10)}, {EventTime: at(11)}}
	w.Commit("t", 0, w.Observe("t", 0, again), w.Tally(again))
	for i, a := range again {
		if a.IsLate {
			t.Errorf("retried event %d marked late", i)
		}
	}
	if got := w.Watermark("t", 0); !got.Equal(at(9)) {
		t.Fatalf("watermark %s after the stored batch, want %s", got, at(9))
	}
}

// A revoked partition's state goes with it: its watermark no longer holds windows open, its open windows
// are handed back once, and nothing of it stays behind.
func TestForgetDropsARevokedPartition(t *testing.T) {
	w, _ := New(Config{Sizes: []time.Duration{time.Minute}, AllowedLateness: 0})
	add := func(topic string, p int, min int) {
		b := []*model.Appeal{{EventTime: at(min), OKTMO: "61701000", Source: "vk"}}
		w.Commit(topic, p, w.Observe(topic, p, b), w.Tally(b))
	}
	w.Restore("vk", 0, time.Time{})
	w.Restore("vk", 1, time.Time{})
	add("vk", 0, 0)  // partition 0 lags at 10:00
	add("vk", 1, 0)  // both contribute to the 10:00 window
	add("vk", 1, 30) // partition 1 is at 10:30
	if got := w.Flush(false); len(got) != 0 {
		t.Fatalf("the slow partition 0 holds 10:00 open, but Flush returned %+v", got)
	}
	handed := w.Forget("vk", 0)
	if len(handed) != 1 || handed[0].Voices != 1 || handed[0].Closed {
		t.Fatalf("Forget returned %+v, want partition 0's one open 10:00 contribution, not closed", handed)
	}
	if !w.Watermark("vk", 0).IsZero() {
		t.Fatal("the revoked partition's watermark is still kept")
	}
	closed := w.Flush(false)
	if len(closed) != 1 || !closed[0].Start.Equal(at(0)) || closed[0].Voices != 1 || !closed[0].Closed {
		t.Fatalf("after the revoke the 10:00 window (partition 1's one appeal) must close, got %+v", closed)
	}
	if n := w.OpenWindows(); n != 1 { // 10:30 of partition 1
		t.Fatalf("%d open windows kept, want 1", n)
	}
	if w.Forget("vk", 0) != nil {
		t.Fatal("forgetting twice returned state")
	}
}

// Windows of several partitions are summed when they close.
func TestFlushSumsPartitions(t *testing.T) {
	w, _ := New(Config{Sizes: []time.Duration{time.Minute}, AllowedLateness: 0})
	for p := range 3 {
		b := []*model.Appeal{{EventTime: at(0), IsIncident: p == 0}, {EventTime: at(5)}}
		w.Commit("t", p, w.Observe("t", p, b), w.Tally(b))
	}
	closed := w.Flush(false)
	if len(closed) != 1 || closed[0].Voices != 3 || closed[0].Incidents != 1 {
		t.Fatalf("closed %+v, want one 10:00 window with 3 voices and 1 incident", closed)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{{}, {Sizes: []time.Duration{7 * time.Minute}}, {Sizes: []time.Duration{time.Minute}, AllowedLateness: -1}} {
		if c.Validate() == nil {
			t.Errorf("%+v should be invalid", c)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

// Live day windows are the region's days: the 1 January 00:30 MSK appeal (21:30 UTC) is in the day that
// starts at the local midnight, 2026-12-31T21:00Z, like the rollups' window_start.
func TestDayWindowsAreTheRegionsDays(t *testing.T) {
	w, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	a := &model.Appeal{EventTime: time.Date(2026, 12, 31, 21, 30, 0, 0, time.UTC), Region: model.DefaultRegion,
		OKTMO: "61701000", Category: "ЖКХ", Source: "vk", IsIncident: true}
	w.Commit("appeals.raw.vk", 0, w.Observe("appeals.raw.vk", 0, []*model.Appeal{a}), w.Tally([]*model.Appeal{a}))
	want := map[time.Duration]time.Time{
		time.Minute:    time.Date(2026, 12, 31, 21, 30, 0, 0, time.UTC),
		time.Hour:      time.Date(2026, 12, 31, 21, 0, 0, 0, time.UTC),
		24 * time.Hour: time.Date(2026, 12, 31, 21, 0, 0, 0, time.UTC),
	}
	got := w.Flush(true)
	if len(got) != len(want) {
		t.Fatalf("%d windows, want %d: %+v", len(got), len(want), got)
	}
	for _, c := range got {
		if !c.Start.Equal(want[c.Size]) || c.Start.Location() != time.UTC {
			t.Errorf("%s window starts %s, want %s", c.Size, c.Start, want[c.Size])
		}
	}
}
