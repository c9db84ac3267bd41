package sla

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
)

// partitionLocks serialise the application of one partition's events across instances. The group reader
// hands a partition to a new member as soon as a rebalance starts, while the old member may still be
// applying what it fetched; both would load the same state and emit the same notice. With the lock the new
// member waits, then loads the state the old one stored and recognises the replayed events as applied.
type partitionLocks struct {
	rdb    redis.UniversalClient
	prefix string
	token  string
	ttl    time.Duration
}

func newPartitionLocks(rdb redis.UniversalClient, prefix, instance string) *partitionLocks {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &partitionLocks{rdb: rdb, prefix: prefix + "sla:applylock:", token: instance + ":" + hex.EncodeToString(b), ttl: 30 * time.Second}
}

var unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// acquire takes the locks of the batch's partitions in a fixed order, waiting for other holders (a dead
// holder's lock expires after the TTL).
func (l *partitionLocks) acquire(ctx context.Context, msgs []kafka.Message) ([]string, error) {
	var keys []string
	for _, m := range msgs {
		k := l.prefix + m.Topic + ":" + strconv.Itoa(m.Partition)
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for i, k := range keys {
		for {
			ok, err := l.rdb.SetNX(ctx, k, l.token, l.ttl).Result()
			if err != nil {
				l.release(context.WithoutCancel(ctx), keys[:i])
				return nil, fmt.Errorf("sla: partition lock: %w", err)
			}
			if ok {
				break
			}
			select {
			case <-ctx.Done():
				l.release(context.WithoutCancel(ctx), keys[:i])
				return nil, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return keys, nil
}

func (l *partitionLocks) release(ctx context.Context, keys []string) {
	for _, k := range keys {
		_ = unlockScript.Run(ctx, l.rdb, []string{k}, l.token).Err()
	}
}
