package kafkax_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// kafkaGoroutines counts the goroutines running kafka-go code (connection pools, their metadata loops,
// connections).
func kafkaGoroutines() int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/segmentio/kafka-go.") {
			n++
		}
	}
	return n
}

// A kafka-go transport given to a client or writer starts a connection pool whose goroutine re-reads the
// cluster's metadata every few seconds until the transport is closed, and kafka-go's Writer.Close does
// not close a transport it did not make. Before the helpers closed theirs, every call left one pool
// behind: a process that polls (the chaos suite, the peer benchmark) or restarts writers grew without end.
func TestHelpersLeaveNoConnectionPools(t *testing.T) {
	b := testenv.Broker(t)
	brokers := []string{b.Addr()}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := kafkax.DefaultProducerConfig()
	cfg.Brokers = brokers
	cfg.BatchTimeout = time.Millisecond
	use := func() {
		if err := kafkax.WaitReady(ctx, brokers, kafkax.Security{}); err != nil {
			t.Fatal(err)
		}
		if err := kafkax.EnsureTopics(ctx, brokers, kafkax.Security{}, 2, model.TopicDLQ); err != nil {
			t.Fatal(err)
		}
		w, err := kafkax.NewWriter(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteMessages(ctx, kafka.Message{Topic: model.TopicDLQ, Key: []byte("k"), Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := kafkax.Partitions(ctx, brokers, kafkax.Security{}, model.TopicDLQ); err != nil {
			t.Fatal(err)
		}
		if _, _, err := kafkax.GrowTopic(ctx, brokers, kafkax.Security{}, model.TopicDLQ, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := kafkax.EndOffsets(ctx, brokers, kafkax.Security{}, model.TopicDLQ); err != nil {
			t.Fatal(err)
		}
		cl, closeClient := kafkax.NewClient(brokers, kafkax.Security{}, 5*time.Second)
		if _, err := cl.Metadata(ctx, &kafka.MetadataRequest{}); err != nil {
			t.Fatal(err)
		}
		closeClient()
	}
	use() // whatever kafka-go starts once per process
	settle := func(limit int) int {
		n := kafkaGoroutines()
		for deadline := time.Now().Add(5 * time.Second); n > limit && time.Now().Before(deadline); n = kafkaGoroutines() {
			time.Sleep(50 * time.Millisecond)
		}
		return n
	}
	base := settle(0)
	const rounds = 20
	for range rounds {
		use()
	}
	if n := settle(base); n > base {
		t.Errorf("%d rounds of the helpers left %d kafka-go goroutines running (%d after the first round); want none left per round", rounds, n, base)
	}
	ends, err := kafkax.EndOffsets(ctx, brokers, kafkax.Security{}, model.TopicDLQ)
	if err != nil {
		t.Fatal(err)
	}
	var records int64
	for _, e := range ends {
		records += e
	}
	if records != rounds+1 {
		t.Errorf("the writers wrote %d records, want %d", records, rounds+1)
	}
}
