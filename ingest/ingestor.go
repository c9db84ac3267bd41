package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
)

// Writer is the part of *kafka.Writer ingest uses. WriteMessages returns only after Kafka acknowledged
// every message (the writer is synchronous, RequiredAcks all).
type Writer interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// ErrUnknownSource is returned for a source no parser is configured for.
var ErrUnknownSource = errors.New("unknown source")

// Message is one raw message as it arrived.
type Message struct {
	Source      string
	Payload     []byte
	ContentType string    // as the sender labelled it; default application/json
	ReceivedAt  time.Time // default now
}

// Outcome of one message.
type Outcome int

// Outcomes.
const (
	Appeal   Outcome = iota + 1 // produced to appeals.raw.<source>
	Status                      // produced to appeals.status as a model.StatusEvent
	Rejected                    // produced to appeals.dlq
)

func (o Outcome) String() string {
	switch o {
	case Appeal:
		return "appeal"
	case Status:
		return "status"
	case Rejected:
		return "rejected"
	}
	return "unknown"
}

// Result says what became of one message.
type Result struct {
	Outcome Outcome
	ID      string // appeal id (for status changes: of the appeal they concern); "" when rejected early
	Reason  string // rejected: the stable reason code
	Detail  string // rejected: for people
}

// Ingestor validates messages and produces them. Safe for concurrent use.
type Ingestor struct {
	reg     *sources.Registry
	schemas *SchemaValidator
	w       Writer
	m       *Metrics
	log     *slog.Logger
	now     func() time.Time
}

// NewIngestor wires an ingestor. schemas may be nil (parsers only); m nil = unregistered metrics.
func NewIngestor(reg *sources.Registry, schemas *SchemaValidator, w Writer, m *Metrics, log *slog.Logger) *Ingestor {
	if m == nil {
		m = NewMetrics(nil)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Ingestor{reg: reg, schemas: schemas, w: w, m: m, log: log, now: time.Now}
}

// WithClock replaces the clock (tests).
func (in *Ingestor) WithClock(now func() time.Time) *Ingestor { in.now = now; return in }

// Metrics returns the ingestor's metrics.
func (in *Ingestor) Metrics() *Metrics { return in.m }

// Known says whether a source has a parser.
func (in *Ingestor) Known(source string) bool {
	_, ok := in.reg.Get(source)
	return ok
}

// Prepare decides what one message becomes and builds its Kafka record. It does no I/O.
func (in *Ingestor) Prepare(msg Message) (Result, kafka.Message) {
	if msg.ReceivedAt.IsZero() {
		msg.ReceivedAt = in.now()
	}
	msg.ReceivedAt = msg.ReceivedAt.UTC()
	if msg.ContentType == "" {
		msg.ContentType = "application/json"
	}
	meta := sources.Meta{ReceivedAt: msg.ReceivedAt, ContentType: msg.ContentType}
	p, ok := in.reg.Get(msg.Source)
	if !ok {
		return in.reject(msg, &sources.InvalidError{Source: msg.Source, Reason: "unknown_source", Detail: "no parser for " + msg.Source})
	}
	if sp, ok := p.(sources.StatusParser); ok && sp.IsStatus(msg.Payload) {
		ev, err := sp.ParseStatus(msg.Payload, meta)
		if err == nil {
			err = in.validate(msg, true)
		}
		if err != nil {
			return in.reject(msg, err)
		}
		value, err := json.Marshal(ev)
		if err != nil {
			return in.reject(msg, err)
		}
		return Result{Outcome: Status, ID: ev.AppealID}, kafka.Message{
			Topic: model.TopicStatus, Key: []byte(ev.AppealID), Value: value,
			Headers: headers(msg.Source, msg.ReceivedAt, "application/json"),
		}
	}
	a, err := p.Parse(msg.Payload, meta)
	if err == nil {
		err = in.validate(msg, false)
	}
	if err != nil {
		return in.reject(msg, err)
	}
	return Result{Outcome: Appeal, ID: a.ID}, kafka.Message{
		Topic: model.RawTopic(msg.Source), Key: []byte(a.ID), Value: msg.Payload,
		Headers: headers(msg.Source, msg.ReceivedAt, msg.ContentType),
	}
}

func (in *Ingestor) validate(msg Message, status bool) error {
	if in.schemas == nil {
		return nil
	}
	return in.schemas.Validate(msg.Source, status, msg.Payload, msg.ContentType)
}

func headers(source string, at time.Time, contentType string) []kafka.Header {
	return []kafka.Header{
		{Key: model.HeaderSource, Value: []byte(source)},
		{Key: model.HeaderReceivedAt, Value: []byte(at.Format(time.RFC3339Nano))},
		{Key: model.HeaderContentType, Value: []byte(contentType)},
		{Key: model.HeaderSchemaVersion, Value: []byte(model.SchemaVersion)},
	}
}

func (in *Ingestor) reject(msg Message, err error) (Result, kafka.Message) {
	reason, detail := sources.Reason(err), err.Error()
	var ie *sources.InvalidError
	if errors.As(err, &ie) {
		detail = ie.Detail
	}
	return Result{Outcome: Rejected, Reason: reason, Detail: detail}, DeadLetter(msg.Source, msg.Payload, msg.ReceivedAt, msg.ContentType, reason, detail)
}

// DeadLetter builds an appeals.dlq record: the original bytes and why they were refused. Keyed by source
// so that one source's dead letters stay in order.
func DeadLetter(source string, payload []byte, receivedAt time.Time, contentType, reason, detail string) kafka.Message {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	return kafka.Message{
		Topic: model.TopicDLQ, Key: []byte(source), Value: payload,
		Headers: []kafka.Header{
			{Key: model.HeaderSource, Value: []byte(source)},
			{Key: model.HeaderReceivedAt, Value: []byte(receivedAt.UTC().Format(time.RFC3339Nano))},
			{Key: model.HeaderContentType, Value: []byte(contentType)},
			{Key: model.HeaderReason, Value: []byte(reason + ": " + detail)},
			{Key: model.HeaderStage, Value: []byte("ingest")},
		},
	}
}

// Ingest prepares and produces msgs in one produce call and returns once Kafka acknowledged all of them.
// On error nothing is counted and the caller must report failure (its client retries; a repeated id is
// harmless downstream, where the processor deduplicates by appeal id).
func (in *Ingestor) Ingest(ctx context.Context, msgs ...Message) ([]Result, error) {
	results := make([]Result, len(msgs))
	records := make([]kafka.Message, len(msgs))
	in.prepareAll(msgs, results, records)
	if err := in.Produce(ctx, sourceOf(msgs), records...); err != nil {
		return nil, err
	}
	for i, r := range results {
		in.Count(msgs[i].Source, r)
	}
	return results, nil
}

// prepareAll spreads parsing and schema validation of a large batch over the cores: it is most of the CPU
// an appeal costs at ingest.
func (in *Ingestor) prepareAll(msgs []Message, results []Result, records []kafka.Message) {
	workers := runtime.GOMAXPROCS(0)
	if len(msgs) < 64 || workers < 2 {
		for i, m := range msgs {
			results[i], records[i] = in.Prepare(m)
		}
		return
	}
	chunk := (len(msgs) + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(msgs); lo += chunk {
		hi := min(lo+chunk, len(msgs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				results[i], records[i] = in.Prepare(msgs[i])
			}
		}()
	}
	wg.Wait()
}

func sourceOf(msgs []Message) string {
	if len(msgs) == 0 {
		return ""
	}
	return msgs[0].Source
}

// Produce writes records and waits for Kafka's acknowledgement, timing it.
func (in *Ingestor) Produce(ctx context.Context, source string, records ...kafka.Message) error {
	if len(records) == 0 {
		return nil
	}
	start := time.Now()
	err := in.w.WriteMessages(ctx, records...)
	in.m.KafkaWrite.Observe(time.Since(start).Seconds())
	if err != nil {
		in.m.KafkaErrs.WithLabelValues(metricSource(in, source)).Inc()
		return fmt.Errorf("ingest: produce %d records: %w", len(records), err)
	}
	return nil
}

// Count records an acknowledged result in the metrics.
func (in *Ingestor) Count(source string, r Result) {
	src := metricSource(in, source)
	in.m.Messages.WithLabelValues(src, r.Outcome.String()).Inc()
	if r.Outcome == Rejected {
		in.m.Rejected.WithLabelValues(src, r.Reason).Inc()
	}
}

// CountRefused records a request refused at the door (auth, rate, size): nothing reached Kafka.
func (in *Ingestor) CountRefused(source, reason string) {
	in.m.Rejected.WithLabelValues(metricSource(in, source), reason).Inc()
}

// metricSource keeps label values bounded: names nobody configured become "unknown".
func metricSource(in *Ingestor, source string) string {
	if in.Known(source) {
		return source
	}
	return "unknown"
}
