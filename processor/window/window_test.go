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
		w.Observe("appeals.raw.vk", 0, []*model.Appeal{a})
		if a.IsLate != tc.late {
			t.Errorf("event at +%d min: late=%v, want %v", tc.event, a.IsLate, tc.late)
		}
		w.Commit([]*model.Appeal{a})
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
	w.Observe("t", 1, []*model.Appeal{a})
	if !a.IsLate {
		t.Fatal("after a restart an event older than the stored progress minus lateness must be late")
	}
	w.Restore("t", 1, at(5)) // never moves backwards
	if !w.Watermark("t", 1).Equal(at(28)) {
		t.Fatalf("watermark %s", w.Watermark("t", 1))
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
