package pipeline

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/sink"
)

// TestStoredCounted checks that a stored batch's rows are counted per source as one Inc per row would
// count them: messages, incidents, late corrections and one delay observation per row.
func TestStoredCounted(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	row := func(src string, incident, late bool, age time.Duration) *model.Appeal {
		return &model.Appeal{Source: src, IsIncident: incident, IsLate: late, EventTime: now.Add(-age)}
	}
	e := &Engine{Deps: Deps{Metrics: NewMetrics(nil)}}
	e.countStored(sink.NewBlock([]*model.Appeal{
		row("vk", true, false, 2*time.Second), row("nashdom", false, true, 10*time.Second), row("vk", false, false, 30*time.Second),
		row("112", true, true, 2*time.Hour), row("vk", true, false, 3*time.Second),
	}), now)
	e.countStored(sink.NewBlock([]*model.Appeal{row("nashdom", true, false, time.Second)}), now)
	e.countStored(sink.NewBlock(nil), now)

	for _, c := range []struct {
		source                  string
		stored, incidents, late float64
		delays                  uint64
		delaySum                float64
	}{
		{"vk", 3, 2, 0, 3, 35},
		{"nashdom", 2, 1, 1, 2, 11},
		{"112", 1, 1, 1, 1, 7200},
		{"pos", 0, 0, 0, 0, 0},
	} {
		if got := testutil.ToFloat64(e.Metrics.Messages.WithLabelValues(c.source, "stored")); got != c.stored {
			t.Errorf("%s stored = %v, want %v", c.source, got, c.stored)
		}
		if got := testutil.ToFloat64(e.Metrics.Incidents.WithLabelValues(c.source)); got != c.incidents {
			t.Errorf("%s incidents = %v, want %v", c.source, got, c.incidents)
		}
		if got := testutil.ToFloat64(e.Metrics.Late.WithLabelValues(c.source)); got != c.late {
			t.Errorf("%s late = %v, want %v", c.source, got, c.late)
		}
		var m dto.Metric
		if err := e.Metrics.EventDelay.WithLabelValues(c.source).(prometheus.Histogram).Write(&m); err != nil {
			t.Fatal(err)
		}
		if h := m.GetHistogram(); h.GetSampleCount() != c.delays || h.GetSampleSum() != c.delaySum {
			t.Errorf("%s delays = %d summing %v s, want %d summing %v s", c.source, h.GetSampleCount(), h.GetSampleSum(), c.delays, c.delaySum)
		}
	}
}
