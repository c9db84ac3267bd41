package pipeline

import (
	"context"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/kafkax"
)

// newPartitionReader reads one partition of a topic, buffering up to prefetch records ahead of the batch.
func newPartitionReader(brokers []string, sec kafkax.Security, topic string, partition, prefetch int, clientID string) *kafka.Reader {
	return kafka.NewReader(kafka.ReaderConfig{
		Brokers: brokers, Topic: topic, Partition: partition,
		MinBytes: 1, MaxBytes: 4 << 20, MaxWait: 100 * time.Millisecond, QueueCapacity: prefetch,
		Dialer: sec.Dialer(clientID),
	})
}

// fetchWithin waits for a partition's first record as long as it takes, then reserves a batch's share
// (size) of an in-flight budget and collects more into batch for up to linger. The first record waits
// outside the budget: an idle partition must not hold a share that a busy one needs. It returns holding
// len(batch) of the budget, the unused rest given back; empty when ctx ended first. A nil batch is
// allocated only once a record came.
func fetchWithin(ctx context.Context, r *kafka.Reader, batch []kafka.Message, size int, linger time.Duration,
	reserve func(context.Context, int) error, giveBack func(int)) []kafka.Message {
	m, err := r.FetchMessage(ctx)
	if err != nil {
		return batch
	}
	if err := reserve(ctx, size); err != nil {
		return batch
	}
	if batch == nil {
		batch = make([]kafka.Message, 0, size)
	}
	batch = kafkax.Fill(ctx, r, append(batch, m), size, linger)
	giveBack(size - len(batch))
	return batch
}
