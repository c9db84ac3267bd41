// Package server is ingest's HTTP face: the generic single and batch endpoints, the source-native webhooks,
// /metrics and /healthz. Every handler answers 2xx only after Kafka acknowledged what the request became.
package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/teplokarta/teplokarta/ingest"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
)

// Server routes requests to the ingestor.
type Server struct {
	cfg     ingest.Config
	in      *ingest.Ingestor
	log     *slog.Logger
	buckets map[string]*bucket
	gate    gate
	mux     *http.ServeMux
}

// New builds the handler. vkCallback serves POST /vk/callback (nil: not served); gatherer serves /metrics.
func New(cfg ingest.Config, in *ingest.Ingestor, vkCallback http.Handler, gatherer prometheus.Gatherer, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, in: in, log: log, buckets: map[string]*bucket{}, gate: newGate(cfg.Limits.MaxConcurrentRequests), mux: http.NewServeMux()}
	for _, name := range cfg.SourceNames() {
		s.buckets[name] = newBucket(cfg.Source(name).RateLimit, time.Now)
	}
	s.handle("POST /v1/ingest/{source}/batch", "batch", s.batch)
	s.handle("POST /v1/ingest/{source}", "single", func(w http.ResponseWriter, r *http.Request) { s.single(w, r, r.PathValue("source")) })
	s.handle("POST /nashdom/webhook", "nashdom_webhook", func(w http.ResponseWriter, r *http.Request) { s.single(w, r, model.SourceNashDom) })
	s.handle("POST /112/cards", "112_cards", func(w http.ResponseWriter, r *http.Request) { s.single(w, r, model.Source112) })
	s.handle("POST /pos/webhook", "pos_webhook", func(w http.ResponseWriter, r *http.Request) { s.single(w, r, model.SourcePOS) })
	if vkCallback != nil {
		s.handle("POST /vk/callback", "vk_callback", s.vk(vkCallback))
	}
	if gatherer != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) { r.code = code; r.ResponseWriter.WriteHeader(code) }

func (s *Server) handle(pattern, route string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		h(rec, r)
		s.in.Metrics().HTTP.WithLabelValues(route, strconv.Itoa(rec.code)).Observe(time.Since(start).Seconds())
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

type errorBody struct {
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

// errTooLarge is a body beyond the door's cap: refused without a dead letter (it may be anything, of any
// size); the client is told, and the refusal is counted.
var errTooLarge = errors.New("body too large")

func readBody(r *http.Request, max int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > max {
		return nil, errTooLarge
	}
	return body, nil
}

// door applies what every source endpoint shares, in an order that reads no body byte before the request
// is authorised: known source, header auth (token; HMAC signature present), declared size, rate limit,
// the concurrency gate; then the capped body and, for HMAC sources, the signature over it. headerAuth is
// false only for VK's callback, which carries its credentials inside the body. The door answers and
// returns ok=false when the request stops here; otherwise the caller calls done when finished.
func (s *Server) door(w http.ResponseWriter, r *http.Request, source string, max int64, headerAuth bool) (body []byte, done func(), ok bool) {
	if !s.in.Known(source) {
		s.in.CountRefused(source, "unknown_source")
		writeJSON(w, http.StatusNotFound, errorBody{"no source " + strconv.Quote(source), "unknown_source"})
		return nil, nil, false
	}
	sc := s.cfg.Source(source)
	if headerAuth {
		if ae := checkHeaders(sc.Auth, r); ae != nil {
			s.refuse(w, source, ae.status, ae.reason, ae.reason)
			return nil, nil, false
		}
	}
	if r.ContentLength > max {
		s.refuse(w, source, http.StatusRequestEntityTooLarge, "oversize", fmt.Sprintf("body over %d bytes", max))
		return nil, nil, false
	}
	if ok, wait := s.buckets[source].take(); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		s.refuse(w, source, http.StatusTooManyRequests, "rate_limited", "rate limit")
		return nil, nil, false
	}
	if !s.gate.enter() {
		w.Header().Set("Retry-After", "1")
		s.refuse(w, source, http.StatusTooManyRequests, "busy", fmt.Sprintf("more than %d requests in progress", cap(s.gate)))
		return nil, nil, false
	}
	body, err := readBody(r, max)
	if err != nil {
		s.gate.leave()
		if errors.Is(err, errTooLarge) {
			s.refuse(w, source, http.StatusRequestEntityTooLarge, "oversize", fmt.Sprintf("body over %d bytes", max))
			return nil, nil, false
		}
		s.refuse(w, source, http.StatusBadRequest, "bad_request", err.Error())
		return nil, nil, false
	}
	if headerAuth {
		if ae := checkBody(sc.Auth, r, body); ae != nil {
			s.gate.leave()
			s.refuse(w, source, ae.status, ae.reason, ae.reason)
			return nil, nil, false
		}
	}
	return body, s.gate.leave, true
}

// refuse answers a request stopped at the door and counts it; nothing of it is stored.
func (s *Server) refuse(w http.ResponseWriter, source string, code int, reason, detail string) {
	s.in.CountRefused(source, reason)
	writeJSON(w, code, errorBody{detail, reason})
}

// doorCap is the largest single body read at all; bodies between the parser's limit and this cap are
// dead-lettered as oversize with their bytes, larger ones are refused at the door. 3 × 256 KiB stays under
// Kafka's default 1 MiB message.max.bytes, so a dead letter can never be refused by the broker and block
// its whole produce call.
func (s *Server) doorCap(source string) int64 {
	sc := s.cfg.Source(source)
	if sc.MaxBodyBytes > 0 && sc.MaxBodyBytes != s.cfg.Limits.MaxMessageBytes {
		return int64(sc.MaxBodyBytes)
	}
	return 3 * int64(s.cfg.Limits.MaxMessageBytes)
}

// batchCap is the largest batch body of a source.
func (s *Server) batchCap(source string) int64 {
	if sc := s.cfg.Source(source); sc.MaxBatchBytes > 0 {
		return sc.MaxBatchBytes
	}
	return s.cfg.Limits.MaxBatchBytes
}

// rejectedStatus maps a reason to the answer of the single-message endpoints.
func rejectedStatus(reason string) int {
	switch reason {
	case "oversize":
		return http.StatusRequestEntityTooLarge
	case "bad_json", "bad_xml", "bad_encoding", "html":
		return http.StatusBadRequest
	}
	return http.StatusUnprocessableEntity
}

func (s *Server) single(w http.ResponseWriter, r *http.Request, source string) {
	body, done, ok := s.door(w, r, source, s.doorCap(source), true)
	if !ok {
		return
	}
	defer done()
	res, err := s.in.Ingest(r.Context(), ingest.Message{Source: source, Payload: body, ContentType: r.Header.Get("Content-Type")})
	if err != nil {
		s.unavailable(w, r, source, err)
		return
	}
	s.answer(w, res[0])
}

func (s *Server) answer(w http.ResponseWriter, res ingest.Result) {
	if res.Outcome == ingest.Rejected {
		writeJSON(w, rejectedStatus(res.Reason), errorBody{res.Detail, res.Reason})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"id": res.ID})
}

func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, source string, err error) {
	if r.Context().Err() != nil {
		// The client hung up (or the server is shutting down) while its messages were being produced: no
		// one reads an answer, and Kafka is not at fault. Whether the client retries is its own business.
		s.log.Info("client went away before its messages were stored", "source", source, "err", err)
		return
	}
	s.log.Warn("kafka produce failed; client will retry", "source", source, "err", err)
	w.Header().Set("Retry-After", "1")
	writeJSON(w, http.StatusServiceUnavailable, errorBody{"not stored, retry: " + err.Error(), "unavailable"})
}

type lineRejection struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

type batchAnswer struct {
	Accepted int             `json:"accepted"`
	Rejected []lineRejection `json:"rejected"`
}

// batch takes NDJSON: one raw message per line (1-based line numbers in the answer; blank lines skipped).
func (s *Server) batch(w http.ResponseWriter, r *http.Request) {
	source := r.PathValue("source")
	body, done, ok := s.door(w, r, source, s.batchCap(source), true)
	if !ok {
		return
	}
	defer done()
	ct := "application/json"
	if cs := sources.Charset(r.Header.Get("Content-Type")); cs != "" {
		ct += "; charset=" + cs
	}
	lineCap := int(s.doorCap(source))
	var (
		msgs    []ingest.Message
		lines   []int
		refused []lineRejection
		now     = time.Now().UTC()
	)
	for n := 1; len(body) > 0; n++ {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if len(line) > lineCap {
			s.in.CountRefused(source, "oversize")
			refused = append(refused, lineRejection{n, fmt.Sprintf("oversize: line of %d bytes over %d, not stored", len(line), lineCap)})
			continue
		}
		msgs = append(msgs, ingest.Message{Source: source, Payload: line, ContentType: ct, ReceivedAt: now})
		lines = append(lines, n)
	}
	if len(msgs)+len(refused) > s.cfg.Limits.MaxBatchLines {
		s.in.CountRefused(source, "oversize")
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{fmt.Sprintf("more than %d lines", s.cfg.Limits.MaxBatchLines), "oversize"})
		return
	}
	res, err := s.in.Ingest(r.Context(), msgs...)
	if err != nil {
		s.unavailable(w, r, source, err)
		return
	}
	ans := batchAnswer{Rejected: []lineRejection{}}
	for i, rr := range res {
		if rr.Outcome == ingest.Rejected {
			ans.Rejected = append(ans.Rejected, lineRejection{lines[i], rr.Reason + ": " + rr.Detail})
			continue
		}
		ans.Accepted++
	}
	ans.Rejected = append(ans.Rejected, refused...)
	writeJSON(w, http.StatusOK, ans)
}

// vk wraps the VK callback handler with the door (size, rate, concurrency) but not header auth: VK cannot
// send custom headers; the handler checks VK's group and secret before anything is stored.
func (s *Server) vk(h http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, done, ok := s.door(w, r, model.SourceVK, s.doorCap(model.SourceVK), false)
		if !ok {
			return
		}
		defer done()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	}
}
