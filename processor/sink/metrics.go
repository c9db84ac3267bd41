package sink

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/teplokarta/teplokarta/internal/obs"
)

// metrics show whether the group commit works: rows and partitions per INSERT, and how long each takes.
type metrics struct {
	rows       prometheus.Histogram
	partitions prometheus.Histogram
	seconds    prometheus.Histogram
	failures   prometheus.Counter
	skipped    prometheus.Counter
	settled    prometheus.Counter
	gather     prometheus.Histogram
	carried    prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		rows: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "teplokarta_sink_insert_rows", Help: "Rows per ClickHouse INSERT of appeals.",
			Buckets: prometheus.ExponentialBuckets(10, 2, 14),
		}),
		partitions: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "teplokarta_sink_insert_partitions", Help: "Kafka partitions whose batches shared one INSERT.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
		}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "teplokarta_sink_insert_seconds", Help: "Duration of one ClickHouse INSERT of appeals (retries included).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 13),
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "teplokarta_sink_insert_failures_total", Help: "Failed INSERT attempts (each is checked and retried).",
		}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "teplokarta_sink_fenced_rows_total", Help: "Rows not written because ClickHouse already held their offsets (a late writer after a rebalance).",
		}),
		gather: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "teplokarta_sink_gather_seconds", Help: "How long a round waited for batches still on their way before its INSERT (0 when no more were coming: live traffic, or nothing upstream).",
			Buckets: []float64{0.001, 0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15},
		}),
		carried: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "teplokarta_sink_carried_batches_total", Help: "Batches that shared an INSERT round with an earlier batch of their partition (the partition went on while that one waited).",
		}),
		settled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "teplokarta_sink_uncertain_rows_total", Help: "Rows a failed INSERT stored in appeals anyway; their rollups and progress were checked and repaired.",
		}),
	}
}

// Register adds the sink's metrics to reg.
func (s *ClickHouse) Register(reg prometheus.Registerer) error {
	return obs.Register(reg, "sink", s.m.rows, s.m.partitions, s.m.seconds, s.m.failures, s.m.skipped, s.m.settled, s.m.gather, s.m.carried)
}
