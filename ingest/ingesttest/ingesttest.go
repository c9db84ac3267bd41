// Package ingesttest reads back what ingest produced, for the tests of the ingest packages: every record of
// a topic with its headers, and topic sizes from the broker's offsets.
package ingesttest

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// Broker starts an embedded broker and returns its address and a producer writing to it.
func Broker(t testing.TB) (string, *kafkax.Writer) {
	t.Helper()
	b := testenv.Broker(t)
	cfg := kafkax.DefaultProducerConfig()
	cfg.Brokers = []string{b.Addr()}
	cfg.BatchTimeout = time.Millisecond
	w, err := kafkax.NewWriter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return b.Addr(), w
}

// Count is the number of records in a topic (sum of the partitions' end offsets).
func Count(t testing.TB, addr, topic string) int64 {
	t.Helper()
	return CountSecure(t, addr, kafkax.Security{}, topic)
}

// CountSecure is Count over a connection with sec's TLS and SASL.
func CountSecure(t testing.TB, addr string, sec kafkax.Security, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := kafkax.EndOffsets(ctx, []string{addr}, sec, topic)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, end := range ends {
		n += end
	}
	return n
}

// ReadAll returns every record of a topic, ordered by partition and offset. It fails the test if the
// records cannot be read within 20 s.
func ReadAll(t testing.TB, addr, topic string) []kafka.Message {
	t.Helper()
	want := Count(t, addr, topic)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	parts, err := kafkax.Partitions(ctx, []string{addr}, kafkax.Security{}, topic)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan kafka.Message, 1024)
	errs := make(chan error, len(parts))
	for _, p := range parts {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: topic, Partition: p, MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 20 * time.Millisecond})
		go func() {
			defer r.Close()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					errs <- err
					return
				}
				select {
				case out <- m:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	var msgs []kafka.Message
	for int64(len(msgs)) < want {
		select {
		case m := <-out:
			msgs = append(msgs, m)
		case <-ctx.Done():
			t.Fatalf("read %d of %d records of %s: %v", len(msgs), want, topic, ctx.Err())
		}
	}
	cancel()
	sort.Slice(msgs, func(i, j int) bool {
		if msgs[i].Partition != msgs[j].Partition {
			return msgs[i].Partition < msgs[j].Partition
		}
		return msgs[i].Offset < msgs[j].Offset
	})
	return msgs
}

// Message is a consumed record.
type Message = kafka.Message

// Record wraps a consumed record (a map value in tests).
type Record struct{ kafka.Message }

// Header returns a record's header value.
func Header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
