package api

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics of the API: every answer by route and status code, so refused requests (401 without a valid
// token, 403, 4xx for bad commands) are counted as well as logged. Labels never hold appeal ids.
type Metrics struct {
	Requests *prometheus.CounterVec // route = command | get | list, code
}

// NewMetrics registers the API's metrics with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sla_api_requests_total",
		Help: "SLA API answers by route and HTTP status code (401: no valid token)."}, []string{"route", "code"})}
	if reg != nil {
		reg.MustRegister(m.Requests)
	}
	return m
}

// WithMetrics counts every answer in m.
func (s *Server) WithMetrics(m *Metrics) *Server { s.metrics = m; return s }

type codeRecorder struct {
	http.ResponseWriter
	code int
}

func (r *codeRecorder) WriteHeader(code int) { r.code = code; r.ResponseWriter.WriteHeader(code) }

// counted wraps a handler so its answer's status is counted under route.
func (s *Server) counted(route string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.metrics == nil {
			h(w, r)
			return
		}
		rec := &codeRecorder{ResponseWriter: w, code: http.StatusOK}
		h(rec, r)
		s.metrics.Requests.WithLabelValues(route, strconv.Itoa(rec.code)).Inc()
	}
}
