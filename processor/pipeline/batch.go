package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
	"github.com/teplokarta/teplokarta/processor/sink"
	"github.com/teplokarta/teplokarta/processor/window"
)

// carried is a batch handed to the sink and waiting to be finished.
type carried struct {
	rows      *sink.Block // the rows as the sink holds them: the appeals are not kept while the batch waits
	created   created     // its incidents' status events, encoded from the appeals
	tally     window.Tally
	last      kafka.Message // only its offset and high-water mark are kept
	watermark time.Time     // the partition's once the batch is stored
	began     time.Time
	budget    int // in-flight records released when finished (batches not carried keep it until then)
	stored    sink.Pending
	ctx       context.Context // the batch's own, bounded by StopTimeout
	cancel    context.CancelFunc
}

// prepareBatch runs one partition's records through the stages up to the sink and hands the rows over:
// dead letters are written first, and the records leave the upstream count (and, when batches are
// carried, the in-flight budget for the sink's). pending is the watermark the partition will have once
// its batches already handed over are stored. Order matters for the exact effect: dead letters and rows
// are stored before the offset moves (finishBatch).
func (e *Engine) prepareBatch(ctx context.Context, topic string, partition int, msgs []kafka.Message, pending time.Time) (*carried, error) {
	c := &carried{began: time.Now(), budget: len(msgs), last: msgs[len(msgs)-1]}
	c.last.Key, c.last.Value, c.last.Headers = nil, nil, nil
	upstream := true
	defer func() {
		if upstream { // failed before the hand-off
			e.drop(len(msgs))
		}
	}()
	appeals, out := e.normalize(msgs)
	// From here on only the offsets are needed: the raw bytes (about as large as the appeals parsed from
	// them) go back to the heap while the batch waits for dedup and the sink, so more records fit in
	// flight and the sink's rounds grow. A failed batch is read again from Kafka, not from here.
	for i := range msgs {
		msgs[i].Key, msgs[i].Value, msgs[i].Headers = nil, nil, nil
	}
	keep, err := e.Deduper.Dedup(ctx, appeals)
	if err != nil {
		return nil, fmt.Errorf("dedup: %w", err)
	}
	rows := appeals[:0:0]
	for i, a := range appeals {
		if keep[i] {
			rows = append(rows, a)
		} else {
			e.Metrics.Messages.WithLabelValues(a.Source, "exact_duplicate").Inc()
		}
	}
	c.watermark = e.Windower.ObserveAfter(topic, partition, pending, rows)
	c.created = e.encodeCreated(rows)
	if e.cfg.WindowsTopic != "" { // live windows are counted only for their subscribers
		c.tally = e.Windower.Tally(rows)
	}
	c.rows = sink.NewBlock(rows)
	if len(out) > 0 {
		if err := e.Producer.WriteMessages(ctx, out...); err != nil {
			return nil, fmt.Errorf("dead letters and forwarded records: %w", err)
		}
	}
	if err := e.acquireUnstored(ctx, len(rows)); err != nil {
		return nil, fmt.Errorf("waiting for the sink: %w", err)
	}
	upstream = false
	e.upstream.Add(-int64(len(msgs)))
	if e.unstored != nil {
		e.release(len(msgs))
		c.budget = 0
	}
	return c, nil
}

// finishBatch runs after the sink stored a batch: "created" events (they may repeat after a crash, and
// carry an event id so the SLA engine applies them once), the offset commit, the watermark and metrics.
func (e *Engine) finishBatch(c *carried, gen *kafka.Generation, topic string, partition int) error {
	ctx := c.ctx
	if e.cfg.AfterStore != nil {
		e.cfg.AfterStore()
	}
	rows := c.rows
	if err := e.emitCreated(ctx, c.created); err != nil {
		return fmt.Errorf("status events: %w", err)
	}
	last := c.last.Offset
	if err := e.commits.commit(gen, topic, partition, last+1); err != nil {
		// Not fatal: ClickHouse holds the progress; the offset only drives lag metrics and empty partitions.
		e.Log.Warn("commit offsets", "topic", topic, "partition", partition, "err", err)
	}
	e.Metrics.Lag.WithLabelValues(topic, strconv.Itoa(partition)).Set(float64(lagAfter(c.last)))
	// The watermark moves only now that the batch is stored: a batch that failed is read again and judged
	// against the same watermark. Live windows are counted only for their subscribers.
	e.Windower.Commit(topic, partition, c.watermark, c.tally)
	e.countStored(rows, time.Now())
	e.Metrics.Batch.Observe(time.Since(c.began).Seconds())
	e.publishWindows(ctx, false)
	return nil
}

// sourceTally is one source's share of a stored batch.
type sourceTally struct {
	source                  string
	stored, incidents, late int
	delay                   prometheus.Observer
}

// countStored counts a stored batch's rows by source: a labelled counter's lookup hashes its labels,
// so it is done once per source and batch, not per row (a batch holds a handful of sources).
func (e *Engine) countStored(rows *sink.Block, now time.Time) {
	var tallies [8]sourceTally
	ts := tallies[:0]
	for r := range rows.Len() {
		src := rows.Source(r)
		i := 0
		for i < len(ts) && ts[i].source != src {
			i++
		}
		if i == len(ts) {
			ts = append(ts, sourceTally{source: src, delay: e.Metrics.EventDelay.WithLabelValues(src)})
		}
		t := &ts[i]
		t.stored++
		if rows.Incident(r) {
			t.incidents++
		}
		if rows.Late(r) {
			t.late++
		}
		t.delay.Observe(now.Sub(rows.EventTime(r)).Seconds())
	}
	for _, t := range ts {
		e.Metrics.Messages.WithLabelValues(t.source, "stored").Add(float64(t.stored))
		if t.incidents > 0 {
			e.Metrics.Incidents.WithLabelValues(t.source).Add(float64(t.incidents))
		}
		if t.late > 0 {
			e.Metrics.Late.WithLabelValues(t.source).Add(float64(t.late))
		}
	}
}

// lagAfter is how many records of m's partition follow m, as of the fetch that brought m.
func lagAfter(m kafka.Message) int64 {
	return max(m.HighWaterMark-(m.Offset+1), 0)
}

// normalize parses every record; the ones that can't be parsed become dead letters carrying the reason,
// and the misplaced ones (Placement) are forwarded. out is what to produce before the batch is handed
// off: the batch's offsets are committed only after its rows are stored, so a crash before that
// produces them again, and a forwarded record's second copy is an exact duplicate of its first.
func (e *Engine) normalize(msgs []kafka.Message) (appeals []*model.Appeal, out []kafka.Message) {
	appeals = make([]*model.Appeal, 0, len(msgs))
	for _, m := range msgs {
		if e.Placement != nil && e.Placement.Misplaced(m.Key, m.Partition) {
			e.Metrics.Messages.WithLabelValues(model.SourceOfTopic(m.Topic), "forwarded").Inc()
			out = append(out, kafka.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: m.Headers})
			continue
		}
		a, err := e.Normalizer.Normalize(m)
		if err != nil {
			src := model.SourceOfTopic(m.Topic)
			e.Metrics.Messages.WithLabelValues(src, "dead_letter").Inc()
			out = append(out, DeadLetter(e.cfg.DLQTopic, m, err))
			continue
		}
		if e.Enricher != nil {
			e.Enricher.Enrich(a)
		}
		if a.OKTMO == "" {
			a.Municipality = model.Unresolved
		}
		appeals = append(appeals, a)
	}
	return appeals, out
}

// MaxDeadLetterBytes bounds a dead letter's key, value and headers so that it fits one record batch
// (kafkax.DefaultBatchBytes, below the brokers' limit). A bigger original is cut, says so in a header, and
// stays whole in its raw topic, where the origin header points.
const MaxDeadLetterBytes = 900_000

// DeadLetter wraps a record that can't be processed: original key, bytes and headers, plus why and where.
func DeadLetter(topic string, m kafka.Message, err error) kafka.Message {
	h := append([]kafka.Header(nil), m.Headers...)
	h = append(h,
		kafka.Header{Key: model.HeaderReason, Value: []byte(sources.Reason(err) + ": " + err.Error())},
		kafka.Header{Key: model.HeaderStage, Value: []byte("processor")},
		kafka.Header{Key: model.HeaderOrigin, Value: []byte(model.Offset{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}.String())},
	)
	value := m.Value
	size := len(m.Key) + len(value)
	for _, x := range h {
		size += len(x.Key) + len(x.Value)
	}
	if size > MaxDeadLetterBytes {
		h = append(h, kafka.Header{Key: model.HeaderTruncated, Value: []byte(strconv.Itoa(len(value)))})
		value = value[:max(len(value)-(size-MaxDeadLetterBytes)-64, 0)]
	}
	return kafka.Message{Topic: topic, Key: m.Key, Value: value, Headers: h}
}

// createdChunk is the size of the created events' buffers: a batch's events in a few allocations.
const createdChunk = 64 << 10

// created is a batch's "created" status events, encoded when the batch is handed to the sink (the
// appeals are not kept while it waits) and sent once it is stored.
type created struct {
	chunks [][]byte // each a buffer of createdChunk bytes from the engine's pool, or bigger for a big event
	events []createdRef
}

// createdRef is one event's key and value in its chunk: key chunk[start:key], value chunk[key:end].
type createdRef struct{ chunk, start, key, end uint32 }

// encodeCreated encodes a "created" event for each incident of rows. Keys and values are written back to
// back into chunks of createdChunk bytes: a new chunk leaves the events in the old one where they are,
// where one growing buffer would copy them at every doubling.
func (e *Engine) encodeCreated(rows []*model.Appeal) created {
	var c created
	if e.cfg.StatusTopic == "" {
		return c
	}
	var buf []byte
	for _, a := range rows {
		if !a.IsIncident {
			continue
		}
		ev := model.StatusEvent{EventID: "created:" + a.ID, Type: model.EventCreated, AppealID: a.ID, Region: a.Region,
			OKTMO: a.OKTMO, Municipality: a.Municipality, Category: a.Category, Theme: a.Theme, Source: a.Source,
			Agency: a.Agency, Actor: "processor", ActorRole: model.RoleSystem, Deadline: a.Hints.Deadline,
			ReceivedTime: a.ReceivedTime, EventTime: a.EventTime}
		if len(c.chunks) == 0 || cap(buf)-len(buf) < createdChunk/8 {
			if len(c.chunks) > 0 {
				c.chunks[len(c.chunks)-1] = buf
			}
			b, _ := e.chunks.Get().(*[]byte)
			if b == nil {
				b = new(make([]byte, 0, createdChunk))
			}
			buf = (*b)[:0]
			c.chunks = append(c.chunks, buf)
		}
		start := len(buf)
		buf = append(buf, a.ID...)
		key := len(buf)
		var err error
		if buf, err = ev.AppendJSON(buf); err != nil {
			// The sources refuse times JSON cannot carry, so this does not happen; if it did, failing the
			// batch would read it again forever. The SLA engine's reconciliation rebuilds a missing event
			// from the stored row (docs/exactness.md, step 8).
			e.Log.Error("created event not encoded; the SLA engine's reconciliation will rebuild it", "appeal", a.ID, "err", err)
			buf = buf[:start]
			continue
		}
		c.chunks[len(c.chunks)-1] = buf
		c.events = append(c.events, createdRef{chunk: uint32(len(c.chunks) - 1), start: uint32(start), key: uint32(key), end: uint32(len(buf))})
	}
	return c
}

// emitCreated sends a stored batch's "created" events (they may repeat after a crash, and the SLA engine
// treats a repeat as the same event). The chunks go back to the pool once the broker acknowledged every
// event in them: a write that failed or was cancelled may still be encoding them, so its chunks are left
// to the collector.
func (e *Engine) emitCreated(ctx context.Context, c created) error {
	if len(c.events) == 0 {
		return nil
	}
	out := make([]kafka.Message, len(c.events))
	for i, r := range c.events {
		b := c.chunks[r.chunk]
		out[i] = kafka.Message{Topic: e.cfg.StatusTopic, Key: b[r.start:r.key:r.key], Value: b[r.key:r.end:r.end]}
	}
	if err := e.Producer.WriteMessages(ctx, out...); err != nil {
		return err
	}
	for _, b := range c.chunks {
		if cap(b) == createdChunk { // not an event's own bigger buffer
			e.chunks.Put(new(b[:0]))
		}
	}
	return nil
}

// publishWindows sends closed live windows to the windows topic, if configured.
func (e *Engine) publishWindows(ctx context.Context, force bool) {
	if e.cfg.WindowsTopic == "" {
		return
	}
	e.writeWindows(ctx, e.Windower.Flush(force))
}

// writeWindows publishes window counts. Each record is one instance's contribution for the rows it stored
// (partitions are split between instances, and a revoked partition hands over its open windows with
// closed=false): subscribers sum records of one key.
func (e *Engine) writeWindows(ctx context.Context, counts []window.Count) {
	if e.cfg.WindowsTopic == "" || len(counts) == 0 {
		return
	}
	msgs := make([]kafka.Message, 0, len(counts))
	for _, c := range counts {
		b, _ := json.Marshal(map[string]any{"size_seconds": int(c.Size.Seconds()), "window_start": c.Start,
			"region": c.Region, "oktmo": c.OKTMO, "category": c.Cat, "source": c.Source,
			"incidents": c.Incidents, "voices": c.Voices, "late": c.Late, "closed": c.Closed})
		key := c.Region + "/" + c.OKTMO + "/" + c.Cat + "/" + c.Source + "/" + c.Start.UTC().Format(time.RFC3339)
		msgs = append(msgs, kafka.Message{Topic: e.cfg.WindowsTopic, Key: []byte(key), Value: b})
	}
	if err := e.Producer.WriteMessages(ctx, msgs...); err != nil {
		e.Log.Warn("live windows not published", "err", err)
	}
}
