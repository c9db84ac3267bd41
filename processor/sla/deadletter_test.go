package sla_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
)

// A status event that does not decode is not skipped: it goes to appeals.dlq with its reason and origin,
// and the events around it are applied.
func TestUndecodableStatusEventIsDeadLettered(t *testing.T) {
	e := newEnv(t)
	e.start("a")
	ctx := ctxT(t, 60*time.Second)
	pc := kafkax.DefaultProducerConfig()
	pc.Brokers = []string{e.broker}
	w, err := kafkax.NewWriter(pc)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	good := created("vk:7", "ЖКХ-Рязань", t0)
	b, err := json.Marshal(good)
	if err != nil {
		t.Fatal(err)
	}
	garbage := []byte(`{"event_id": "created:vk:8", "type": `)
	if err := w.WriteMessages(ctx,
		kafka.Message{Topic: model.TopicStatus, Key: []byte("vk:8"), Value: garbage},
		kafka.Message{Topic: model.TopicStatus, Key: []byte("vk:7"), Value: b}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the good event applied", func() (bool, string) {
		_, _, dl := e.status("vk:7")
		return dl.Equal(t0.Add(8 * time.Hour)), dl.String()
	})
	m := readOne(t, ctx, e.broker, model.TopicDLQ)
	if string(m.Value) != string(garbage) {
		t.Fatalf("dead letter value %q, want the original bytes", m.Value)
	}
	h := map[string]string{}
	for _, x := range m.Headers {
		h[x.Key] = string(x.Value)
	}
	if !strings.HasPrefix(h[model.HeaderReason], "bad_json: ") || h[model.HeaderStage] != "sla" ||
		!strings.HasPrefix(h[model.HeaderOrigin], model.TopicStatus+"/") {
		t.Fatalf("dead letter headers %v", h)
	}
}

// readOne returns the first record found on any partition of topic.
func readOne(t *testing.T, ctx context.Context, broker, topic string) kafka.Message {
	t.Helper()
	parts, err := kafkax.Partitions(ctx, []string{broker}, kafkax.Security{}, topic)
	if err != nil {
		t.Fatal(err)
	}
	for ctx.Err() == nil {
		for _, p := range parts {
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: topic, Partition: p, MaxWait: 50 * time.Millisecond})
			rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			m, err := r.ReadMessage(rctx)
			cancel()
			r.Close()
			if err == nil {
				return m
			}
		}
	}
	t.Fatalf("nothing on %s", topic)
	return kafka.Message{}
}
