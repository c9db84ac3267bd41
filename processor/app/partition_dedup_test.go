package app_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

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
	bl := endToEndWithState(t, 44, "e2e-partition", func(o *app.Options) {
		o.DedupState, o.EnrichedPartitions = app.DedupPartition, 6
	})
	if topics := storedTopics(t, bl.conn); len(topics) != 1 || topics[model.TopicEnriched] != uint64(bl.truth.Appeals) {
		t.Fatalf("rows by topic %v: want all %d from %s", topics, bl.truth.Appeals, model.TopicEnriched)
	}
	// Back to the raw topics on the same database is refused: their resume point is the last offset stored
	// straight from them (none here), so everything would be stored a second time.
	for _, state := range []string{app.DedupRedis, app.DedupLocal} {
		o := bl.opts
		o.DedupState, o.Pipeline.GroupID = state, "e2e-back-"+state
		eng, err := app.Build(o, app.Clients{ClickHouse: bl.conn, Redis: bl.rdb})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err = eng.Run(ctx)
		cancel()
		if !errors.Is(err, app.ErrWrittenInPartitionMode) {
			t.Fatalf("--dedup-state %s after partition: Run returned %v, want ErrWrittenInPartitionMode", state, err)
		}
	}
	compareWithTruth(t, bl.conn, bl.truth)
}

// endToEndWithState drains a 20,000-message backlog with one in-process processor whose options set
// adjusts, compares ClickHouse with the truth and requires that Redis holds no dedup key.
func endToEndWithState(t *testing.T, seed uint64, group string, set func(*app.Options)) backlog {
	bl := newBacklog(t, seed, 20000, group)
	set(&bl.opts)
	stop := runProcessor(t, bl.opts, app.Clients{ClickHouse: bl.conn, Redis: bl.rdb})
	waitRows(t, bl.conn, bl.truth.Appeals, 3*time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	compareWithTruth(t, bl.conn, bl.truth)
	keys, err := bl.rdb.Keys(context.Background(), bl.opts.Dedup.KeyPrefix+"dedup:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		t.Fatalf("the state is not in Redis, but Redis holds %d dedup keys (%v…)", len(keys), keys[0])
	}
	return bl
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
	sigkillThreeTimes(t, 9, 30000, partitionState)
}

func containsEventually(b *syncBuffer, s string) bool {
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if strings.Contains(b.String(), s) {
			return true
		}
	}
	return false
}

// A database filled with the state in Redis switches to --dedup-state partition mid-stream: the first
// stage starts after what was stored straight from the raw topics (it re-keys none of it), and the
// partitions' rebuild takes those rows in, so the retries of appeals stored before the switch are still
// exact duplicates.
func TestSwitchingToPartitionStateCountsNothingTwice(t *testing.T) {
	t.Parallel()
	bl := newBacklog(t, 45, 20000, "switch")
	stop := runProcessor(t, bl.opts, app.Clients{ClickHouse: bl.conn, Redis: bl.rdb})
	waitProgress(t, bl.conn, bl.truth.Appeals*2/5, 3*time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	before := rowCount(t, bl.conn)
	o := bl.opts
	o.DedupState, o.EnrichedPartitions = app.DedupPartition, 6
	reg := prometheus.NewRegistry()
	stop = runProcessor(t, o, app.Clients{ClickHouse: bl.conn, Redis: bl.rdb, Registerer: reg})
	waitRows(t, bl.conn, bl.truth.Appeals, 3*time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	compareWithTruth(t, bl.conn, bl.truth)
	dups := labelledSum(t, reg, "teplokarta_processor_messages_total", "result", "exact_duplicate")
	t.Logf("switched at %d of %d rows; exact duplicates after the switch: %v (retries in the backlog: %d)",
		before, bl.truth.Appeals, dups, bl.truth.Retries)
	if dups > float64(bl.truth.Retries) {
		t.Fatalf("%v exact duplicates after the switch, more than the backlog's %d retries: the first stage re-keyed what was stored", dups, bl.truth.Retries)
	}
}

// labelledSum adds up a counter's values whose label has the value given.
func labelledSum(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if label == "" || slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == label && l.GetValue() == value }) {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}
