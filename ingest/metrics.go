package ingest

import "github.com/prometheus/client_golang/prometheus"

// Metrics of ingest. Labels are source, outcome and reason codes, never appeal ids.
type Metrics struct {
	Messages   *prometheus.CounterVec // source, outcome = appeal | status | rejected
	Rejected   *prometheus.CounterVec // source, reason: every rejection, DLQ'd or refused at the door
	KafkaWrite prometheus.Histogram
	KafkaErrs  *prometheus.CounterVec   // source
	HTTP       *prometheus.HistogramVec // route, code
}

// NewMetrics registers the ingest metrics with reg (nil: not registered, for tests and tools).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "teplokarta_ingest_messages_total",
			Help: "Messages acknowledged by Kafka, by source and outcome (appeal, status, rejected)."}, []string{"source", "outcome"}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "teplokarta_ingest_rejected_total",
			Help: "Rejected messages and requests by source and reason (dead-lettered, or refused: unauthorized, rate_limited, oversize)."}, []string{"source", "reason"}),
		KafkaWrite: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "teplokarta_ingest_kafka_write_seconds",
			Help: "Time from handing records to the producer until Kafka acknowledged them all.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		KafkaErrs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "teplokarta_ingest_kafka_errors_total",
			Help: "Produce calls that failed (the client got a 5xx and retries)."}, []string{"source"}),
		HTTP: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "teplokarta_ingest_http_request_seconds",
			Help: "HTTP request latency by route and status code.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"route", "code"}),
	}
	if reg != nil {
		reg.MustRegister(m.Messages, m.Rejected, m.KafkaWrite, m.KafkaErrs, m.HTTP)
	}
	return m
}
