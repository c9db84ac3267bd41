package simulator

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/model"
)

// Sink is where simulated messages go.
type Sink interface {
	Send(ctx context.Context, batch []Message) error
}

// KafkaSink produces raw records exactly as ingest would: raw topic, appeal-id key, original bytes, headers.
// It lets the processor be exercised without the HTTP layer.
type KafkaSink struct {
	W interface {
		WriteMessages(ctx context.Context, msgs ...kafka.Message) error
	}
}

// Send implements Sink.
func (s KafkaSink) Send(ctx context.Context, batch []Message) error {
	msgs := make([]kafka.Message, len(batch))
	for i, m := range batch {
		msgs[i] = RawRecord(m)
	}
	return s.W.WriteMessages(ctx, msgs...)
}

// RawRecord is the Kafka record ingest makes of a message.
func RawRecord(m Message) kafka.Message {
	return kafka.Message{Topic: model.RawTopic(m.Source), Key: []byte(m.AppealID()), Value: m.Payload, Headers: []kafka.Header{
		{Key: model.HeaderSource, Value: []byte(m.Source)},
		{Key: model.HeaderReceivedAt, Value: []byte(m.Arrival.UTC().Format(time.RFC3339Nano))},
		{Key: model.HeaderContentType, Value: []byte(m.ContentType)},
		{Key: model.HeaderSchemaVersion, Value: []byte(model.SchemaVersion)},
	}}
}

// HTTPSink posts to ingest's batch endpoint (NDJSON, one request per source in the batch).
type HTTPSink struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	Client  *http.Client
	// Sign adds a source's credentials for a batch body (ingest.AuthConfig.Sign); nil sends none, which
	// only an ingest without auth (loopback) accepts.
	Sign func(source string, h http.Header, body []byte)
}

// Send implements Sink.
func (s HTTPSink) Send(ctx context.Context, batch []Message) error {
	bySource := map[string]*bytes.Buffer{}
	var order []string
	for _, m := range batch {
		b := bySource[m.Source]
		if b == nil {
			b = &bytes.Buffer{}
			bySource[m.Source] = b
			order = append(order, m.Source)
		}
		b.Write(m.Payload)
		b.WriteByte('\n')
	}
	for _, src := range order {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.BaseURL+"/v1/ingest/"+src+"/batch", bySource[src])
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-ndjson")
		if s.Sign != nil {
			s.Sign(src, req.Header, bySource[src].Bytes())
		}
		resp, err := s.Client.Do(req)
		if err != nil {
			return fmt.Errorf("simulator: post %s batch: %w", src, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("simulator: ingest answered %s for %s: %s", resp.Status, src, body)
		}
	}
	return nil
}

// RunConfig says how long and how fast to send.
type RunConfig struct {
	Count     int           // stop after this many messages (0 = no limit)
	Until     time.Time     // stop at this arrival time (zero = no limit)
	Live      bool          // pace by the wall clock (arrival times are real); otherwise as fast as possible
	BatchSize int           // messages per Send; default 500
	MaxDelay  time.Duration // live mode: longest a message waits in a batch; default 200ms
	// Now is the clock live mode paces by (arrival times are on its timeline); default the wall clock.
	// A scaled clock (processor/sla/clock.Scaled) with Scale set plays a simulated day in minutes.
	Now   func() time.Time
	Scale float64 // simulated seconds per real second of Now; default 1
}

// Run sends messages until the count, the time limit or ctx ends, recording them in truth.
func Run(ctx context.Context, g *Generator, sink Sink, rc RunConfig, truth *Truth) error {
	if rc.BatchSize <= 0 {
		rc.BatchSize = 500
	}
	if rc.MaxDelay <= 0 {
		rc.MaxDelay = 200 * time.Millisecond
	}
	if rc.Now == nil {
		rc.Now = time.Now
	}
	if rc.Scale < 1 {
		rc.Scale = 1
	}
	var batch []Message
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := sink.Send(ctx, batch); err != nil {
			return err
		}
		for _, m := range batch {
			truth.Add(m)
		}
		batch = batch[:0]
		return nil
	}
	lastFlush := time.Now()
	for sent := 0; rc.Count == 0 || sent < rc.Count; sent++ {
		m := g.Next()
		if !rc.Until.IsZero() && m.Arrival.After(rc.Until) {
			break
		}
		if rc.Live {
			if wait := time.Duration(float64(m.Arrival.Sub(rc.Now())) / rc.Scale); wait > 0 {
				if err := flush(); err != nil {
					return err
				}
				lastFlush = time.Now()
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(wait):
				}
			}
		} else if ctx.Err() != nil {
			break
		}
		batch = append(batch, m)
		if len(batch) >= rc.BatchSize || (rc.Live && time.Since(lastFlush) > rc.MaxDelay) {
			if err := flush(); err != nil {
				return err
			}
			lastFlush = time.Now()
		}
	}
	return flush()
}
