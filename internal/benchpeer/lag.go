package benchpeer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
)

// groupOf is the consumer group of a source's Kafka table.
func groupOf(group, src string) string { return group + "_" + srcIdent(src) }

// peerLagBySource is peerLag per source (a stuck consumer shows as one source's lag).
func (b *bench) peerLagBySource(ctx context.Context, group string) string {
	var out []string
	for _, src := range peerSources {
		l, err := b.lagOf(ctx, group, src)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", src, err))
			continue
		}
		out = append(out, fmt.Sprintf("%s %d", src, l))
	}
	return strings.Join(out, ", ")
}

// peerLag is how many records of the raw topics the peer's consumer groups have not committed yet. The
// Kafka engine commits a block after its views have written it, so 0 means every record is stored — at
// least once: a rebalance can hand a consumer records again that it had read but not committed.
func (b *bench) peerLag(ctx context.Context, group string) (int64, error) {
	var lag int64
	for _, src := range peerSources {
		l, err := b.lagOf(ctx, group, src)
		if err != nil {
			return 0, err
		}
		lag += l
	}
	return lag, nil
}

// lagOf is one source's Kafka table's lag.
func (b *bench) lagOf(ctx context.Context, group, src string) (int64, error) {
	topic := model.RawTopic(src)
	ends, err := kafkax.EndOffsets(ctx, []string{b.brokerAddr()}, kafkax.Security{}, topic)
	if err != nil {
		return 0, err
	}
	parts := make([]int, 0, len(ends))
	for p := range ends {
		parts = append(parts, p)
	}
	cl, closeClient := kafkax.NewClient([]string{b.brokerAddr()}, kafkax.Security{}, 5*time.Second)
	defer closeClient()
	committed, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: groupOf(group, src), Topics: map[string][]int{topic: parts}})
	if err != nil {
		return 0, fmt.Errorf("benchpeer: committed offsets of %s: %w", groupOf(group, src), err)
	}
	done := map[int]int64{}
	for _, p := range committed.Topics[topic] {
		if p.Error == nil && p.CommittedOffset > 0 {
			done[p.Partition] = p.CommittedOffset
		}
	}
	var lag int64
	for p, end := range ends {
		lag += max(end-done[p], 0)
	}
	return lag, nil
}
