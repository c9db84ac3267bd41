package kafkax_test

import (
	"context"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/testenv"
)

// GrowTopic creates a missing topic with the count asked for, adds partitions to one that has fewer and
// leaves one that has more as it is (Kafka removes none).
func TestGrowTopic(t *testing.T) {
	b := testenv.Broker(t)
	brokers := []string{b.Addr()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const topic = "grow.test"
	for _, step := range []struct {
		want, before, after int
	}{
		{3, 0, 3}, // missing: created
		{3, 3, 3},
		{7, 3, 7}, // grown
		{5, 7, 7}, // never shrunk
	} {
		before, after, err := kafkax.GrowTopic(ctx, brokers, kafkax.Security{}, topic, step.want)
		if err != nil {
			t.Fatalf("grow to %d: %v", step.want, err)
		}
		if before != step.before || after != step.after {
			t.Errorf("grow to %d: %d → %d partitions, want %d → %d", step.want, before, after, step.before, step.after)
		}
		var parts []int
		for deadline := time.Now().Add(5 * time.Second); ; {
			if parts, err = kafkax.Partitions(ctx, brokers, kafkax.Security{}, topic); err == nil && len(parts) == step.after || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(parts) != step.after {
			t.Errorf("grow to %d: the brokers list %v (%v), want %d partitions", step.want, parts, err, step.after)
		}
	}
}
