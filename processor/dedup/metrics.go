package dedup

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/teplokarta/teplokarta/internal/obs"
)

type metrics struct {
	decisions *prometheus.CounterVec   // by kind
	roundTrip *prometheus.HistogramVec // by phase: one observation per pipelined round trip
	conflicts prometheus.Counter
	forced    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "teplokarta_dedup_decisions_total", Help: "Dedup decisions by kind (incident, voice, exact_duplicate, replay).",
		}, []string{"kind"}),
		roundTrip: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "teplokarta_dedup_redis_roundtrip_seconds", Help: "Duration of one pipelined Redis round trip of a batch, by phase.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
		}, []string{"phase"}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "teplokarta_dedup_claim_conflicts_total", Help: "Incident claims that raced with another batch or instance and were re-decided.",
		}),
		forced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "teplokarta_dedup_forced_incidents_total", Help: "Incidents stored without the commit check after losing every checked round to another instance.",
		}),
	}
	if err := obs.Register(reg, "dedup", m.decisions, m.roundTrip, m.conflicts, m.forced); err != nil {
		return nil, err
	}
	return m, nil
}

// countDecisions adds a batch's decisions to their counters: one labelled lookup per kind and batch
// rather than per appeal.
func (m *metrics) countDecisions(decs []Decision) {
	var n [ExactDuplicate + 1]int
	for _, d := range decs {
		if d.Kind <= ExactDuplicate {
			n[d.Kind]++
		} else {
			m.decisions.WithLabelValues(d.Kind.String()).Inc()
		}
	}
	for k, c := range n {
		if c > 0 {
			m.decisions.WithLabelValues(Kind(k).String()).Add(float64(c))
		}
	}
}
