package kafkax

import (
	"context"
	"time"

	"github.com/segmentio/kafka-go"
)

// Fill appends records from r to batch until it holds max or linger has passed: the consumers wait for a
// batch's first record as long as it takes, then give the rest a bounded time to arrive.
func Fill(ctx context.Context, r *kafka.Reader, batch []kafka.Message, max int, linger time.Duration) []kafka.Message {
	ctx, cancel := context.WithTimeout(ctx, linger)
	defer cancel()
	for len(batch) < max {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			break
		}
		batch = append(batch, m)
	}
	return batch
}
