package sla

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the engine. Labels are bounded sets (event types, reasons, kinds), never appeal ids.
type Metrics struct {
	Applied     *prometheus.CounterVec // sla_events_applied_total{type}
	Refused     *prometheus.CounterVec // sla_events_refused_total{reason}
	Ignored     *prometheus.CounterVec // sla_events_ignored_total{reason}: duplicates, stale timers
	Fired       *prometheus.CounterVec // sla_timers_fired_total{kind}
	BreachDelay prometheus.Histogram   // sla_breach_delay_seconds: deadline → breach applied
	Batch       prometheus.Histogram   // sla_batch_seconds: one consumed batch, load → commit
	Rebuilds    prometheus.Counter     // sla_timer_rebuilds_total
	Reconciled  prometheus.Counter     // sla_incidents_reconciled_total
}

// NewMetrics registers the metrics on reg (nil: not registered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Applied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sla_events_applied_total",
			Help: "Status events applied, by type."}, []string{"type"}),
		Refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sla_events_refused_total",
			Help: "Commands refused, by reason (forbidden, not_found, invalid_transition, invalid_command)."}, []string{"reason"}),
		Ignored: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sla_events_ignored_total",
			Help: "Events that changed nothing: replays and timers of old deadlines."}, []string{"reason"}),
		Fired: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sla_timers_fired_total",
			Help: "Timers claimed and published, by kind."}, []string{"kind"}),
		BreachDelay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sla_breach_delay_seconds",
			Help:    "Delay from an appeal's deadline to its breach being applied.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 5, 15, 60}}),
		Batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sla_batch_seconds",
			Help: "Time to apply one consumed batch.", Buckets: prometheus.DefBuckets}),
		Rebuilds: prometheus.NewCounter(prometheus.CounterOpts{Name: "sla_timer_rebuilds_total",
			Help: "Timer rebuilds from ClickHouse after Redis lost its data."}),
		Reconciled: prometheus.NewCounter(prometheus.CounterOpts{Name: "sla_incidents_reconciled_total",
			Help: "Incidents stored without a created event (a processor crashed in between) whose event the engine rebuilt from appeals."}),
	}
	if reg != nil {
		reg.MustRegister(m.Applied, m.Refused, m.Ignored, m.Fired, m.BreachDelay, m.Batch, m.Rebuilds, m.Reconciled)
	}
	return m
}
