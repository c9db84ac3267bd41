package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/app"
)

var partitionState = []string{"--dedup-state", app.DedupPartition, "--enriched-partitions", "6"}

// storedTopics counts the stored rows by the topic they were consumed from.
func storedTopics(t *testing.T, conn driver.Conn) map[string]uint64 {
	t.Helper()
	rows, err := conn.Query(context.Background(), "SELECT kafka_topic, count() FROM appeals GROUP BY kafka_topic")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var topic string
		var n uint64
		if err := rows.Scan(&topic, &n); err != nil {
			t.Fatal(err)
		}
		out[topic] = n
	}
	return out
}

// Two stages in one process: the counts equal the truth, every row came through appeals.enriched, and
// Redis holds no dedup key.
func TestEndToEndPartitionDedupState(t *testing.T) {
	t.Parallel()
	bl := newBacklog(t, 44, 20000, "e2e-partition")
	bl.opts.DedupState, bl.opts.EnrichedPartitions = app.DedupPartition, 6
	stop := runProcessor(t, bl.opts, app.Clients{ClickHouse: bl.conn, Redis: bl.rdb})
	waitRows(t, bl.conn, bl.truth.Appeals, 3*time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	compareWithTruth(t, bl.conn, bl.truth)
	if topics := storedTopics(t, bl.conn); len(topics) != 1 || topics[model.TopicEnriched] != uint64(bl.truth.Appeals) {
		t.Fatalf("rows by topic %v: want all %d from %s", topics, bl.truth.Appeals, model.TopicEnriched)
	}
	keys, err := bl.rdb.Keys(context.Background(), bl.opts.Dedup.KeyPrefix+"dedup:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		t.Fatalf("the state is with the partitions, but Redis holds %d dedup keys (%v…)", len(keys), keys[0])
	}
}

// Issue 15, item 7, with the state in the partitions: one instance, then two more join, then the first
// is SIGKILLed; both stages rebalance each time, and the new owners rebuild the moved partitions' state.
func TestThreeInstancesPartitionDedupState(t *testing.T) {
	t.Parallel()
	broker := startBroker(t)
	conn, cfg := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	truth := simulate(t, broker, 13, 30000, time.Now().Add(-40*24*time.Hour).Truncate(time.Hour))
	first, _ := startChildWith(t, broker, cfg.Database, prefix, partitionState)
	waitProgress(t, conn, truth.Appeals/5, 4*time.Minute)
	_, secondLog := startChildWith(t, broker, cfg.Database, prefix, partitionState)
	startChildWith(t, broker, cfg.Database, prefix, partitionState)
	waitProgress(t, conn, truth.Appeals/2, 4*time.Minute)
	first.kill()
	t.Logf("first instance killed at %d stored rows", rowCount(t, conn))
	waitRows(t, conn, truth.Appeals, 4*time.Minute)
	compareWithTruth(t, conn, truth)
	if !containsEventually(secondLog, "partitions' state rebuilt from clickhouse") {
		t.Fatal("the second instance never rebuilt a partition's state")
	}
}

// Killed three times mid-stream, in either stage: what the first stage produced again is dropped by the
// second as exact duplicates, and nothing is lost or doubled.
func TestSIGKILLWithPartitionDedupState(t *testing.T) {
	t.Parallel()
	broker := startBroker(t)
	conn, cfg := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	truth := simulate(t, broker, 9, 30000, time.Now().Add(-40*24*time.Hour).Truncate(time.Hour))
	for i, frac := range []float64{0.2, 0.45, 0.7} {
		c, _ := startChildWith(t, broker, cfg.Database, prefix, partitionState)
		waitProgress(t, conn, int(frac*float64(truth.Appeals)), 4*time.Minute)
		c.kill()
		t.Logf("kill %d at %d stored rows", i+1, rowCount(t, conn))
	}
	startChildWith(t, broker, cfg.Database, prefix, partitionState)
	waitRows(t, conn, truth.Appeals, 4*time.Minute)
	compareWithTruth(t, conn, truth)
}

func containsEventually(b *syncBuffer, s string) bool {
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if strings.Contains(b.String(), s) {
			return true
		}
	}
	return false
}
