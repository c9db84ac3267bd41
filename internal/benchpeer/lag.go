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
	cl := &kafka.Client{Addr: kafka.TCP(b.brokerAddr()), Transport: kafkax.NewTransport(), Timeout: 5 * time.Second}
	topic := model.RawTopic(src)
	parts, err := kafkax.Partitions(ctx, []string{b.brokerAddr()}, topic)
	if err != nil {
		return 0, err
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, p := range parts {
		req.Topics[topic] = append(req.Topics[topic], kafka.LastOffsetOf(p))
	}
	ends, err := cl.ListOffsets(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("benchpeer: end offsets of %s: %w", topic, err)
	}
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
	for _, p := range ends.Topics[topic] {
		if p.Error != nil {
			return 0, fmt.Errorf("benchpeer: end offset of %s/%d: %w", topic, p.Partition, p.Error)
		}
		lag += max(p.LastOffset-done[p.Partition], 0)
	}
	return lag, nil
}
