package kafkax_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// Two large dead letters of one source share a key and so a partition: with a batch cap above the
// broker's record-batch limit (1 MiB) kafka-go packed them into one batch and the broker refused both.
func TestTwoLargeRecordsToOnePartition(t *testing.T) {
	b := testenv.Broker(t)
	cfg := kafkax.DefaultProducerConfig()
	cfg.Brokers = []string{b.Addr()}
	cfg.BatchTimeout = 50 * time.Millisecond // let both records wait for one batch
	w, err := kafkax.NewWriter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	big := func(fill byte) []byte { return bytes.Repeat([]byte{fill}, 700_000) }
	msgs := []kafka.Message{
		{Topic: model.TopicDLQ, Key: []byte("vk"), Value: big('a')},
		{Topic: model.TopicDLQ, Key: []byte("vk"), Value: big('b')},
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("two 700 KB records to one partition: %v", err)
	}
	parts, err := kafkax.Partitions(ctx, cfg.Brokers, kafkax.Security{}, model.TopicDLQ)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for _, p := range parts {
		conn, err := kafka.DialLeader(ctx, "tcp", cfg.Brokers[0], model.TopicDLQ, p)
		if err != nil {
			t.Fatal(err)
		}
		end, err := conn.ReadLastOffset()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		if end == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: cfg.Brokers, Topic: model.TopicDLQ, Partition: p, MaxBytes: 4 << 20,
			Dialer: &kafka.Dialer{Timeout: 5 * time.Second}})
		for range end {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, m.Value)
		}
		r.Close()
	}
	if len(got) != 2 || !bytes.Equal(got[0], msgs[0].Value) || !bytes.Equal(got[1], msgs[1].Value) {
		t.Fatalf("read back %d records, want both, in order", len(got))
	}
}
