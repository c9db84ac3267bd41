package pipeline

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the processor. Labels are sources and outcomes, never appeal ids.
type Metrics struct {
	Messages   *prometheus.CounterVec   // by source and result: stored, exact_duplicate, dead_letter, forwarded
	Incidents  *prometheus.CounterVec   // by source
	Late       *prometheus.CounterVec   // by source: corrections of closed windows
	EventDelay *prometheus.HistogramVec // processing time − event time, by source
	Batch      prometheus.Histogram     // seconds per batch, fetch excluded
	Resumes    prometheus.Counter       // partitions resumed from ClickHouse progress ahead of Kafka's offset
	InFlight   prometheus.Gauge         // records holding the in-flight budget
	Unstored   prometheus.Gauge         // rows handed to the sink and not yet stored
	Lag        *prometheus.GaugeVec     // by topic and partition: records behind the partition's end
	Rerouted   prometheus.Counter       // --dedup-state partition: appeals re-keyed by their id's first scope
}

// NewMetrics registers the metrics with reg (nil: unregistered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "teplokarta_processor_messages_total",
			Help: "Raw messages processed, by source and result (stored, exact_duplicate, dead_letter; forwarded: an appeals.enriched record produced before the topic grew, sent on to its partition)."}, []string{"source", "result"}),
		Incidents: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "teplokarta_processor_incidents_total",
			Help: "Stored appeals that opened a new incident (the rest are voices of an existing one)."}, []string{"source"}),
		Late: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "teplokarta_processor_late_events_total",
			Help: "Appeals that arrived after their window's watermark: corrections of a closed window."}, []string{"source"}),
		EventDelay: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "teplokarta_processor_event_delay_seconds",
			Help:    "Delay between an appeal's event time and its processing.",
			Buckets: []float64{1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 86400, 7 * 86400}}, []string{"source"}),
		Batch: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "teplokarta_processor_batch_seconds",
			Help: "Time to process and store one batch.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 15)}),
		Resumes: prometheus.NewCounter(prometheus.CounterOpts{Name: "teplokarta_processor_resumes_from_sink_total",
			Help: "Partition assignments that resumed from ClickHouse's progress record ahead of the committed offset."}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "teplokarta_processor_in_flight_records",
			Help: "Records being batched or processed across all partitions; at --max-in-flight, partitions wait for budget."}),
		Unstored: prometheus.NewGauge(prometheus.GaugeOpts{Name: "teplokarta_processor_unstored_rows",
			Help: "Rows handed to the ClickHouse sink and not yet stored (carried batches); at --max-unstored, partitions wait for an INSERT."}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "teplokarta_processor_lag_records",
			Help: "Records of a partition this instance owns that lie after its last stored batch (the partition's end as of that batch's fetch): how far behind the processor is."},
			[]string{"topic", "partition"}),
		Rerouted: prometheus.NewCounter(prometheus.CounterOpts{Name: "teplokarta_rekey_rerouted_total",
			Help: "With --dedup-state partition: appeals re-keyed by the scope their id was first re-keyed by, not their own (a retry that resolved elsewhere)."}),
	}
	if reg != nil {
		reg.MustRegister(m.Messages, m.Incidents, m.Late, m.EventDelay, m.Batch, m.Resumes, m.InFlight, m.Unstored, m.Lag, m.Rerouted)
	}
	return m
}
