package app_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/kafkax"
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

// live is one test's own broker, ClickHouse database and Redis prefix, and processor options on them.
type live struct {
	ctx  context.Context // ends after two minutes
	conn driver.Conn
	rdb  *redis.Client
	opts app.Options
}

func newLive(t *testing.T, group, dedupState string) live {
	t.Helper()
	b := testenv.Broker(t)
	conn, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	o := app.DefaultOptions()
	o.Pipeline.Brokers, o.Pipeline.GroupID, o.Dedup.KeyPrefix, o.DedupState = []string{b.Addr()}, group, prefix, dedupState
	return live{ctx: ctx, conn: conn, rdb: rdb, opts: o}
}

// run starts a processor on l.opts with a registry of its own, stopped (and its error reported) when the
// test ends, before the servers.
func (l live) run(t *testing.T) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	stop := runProcessor(t, l.opts, app.Clients{ClickHouse: l.conn, Redis: l.rdb, Registerer: reg})
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	return reg
}

// waitLagReported waits until the processor reports the lag of a partition, which it does once it holds
// the partition, or fails when ctx ends.
func waitLagReported(t *testing.T, ctx context.Context, reg *prometheus.Registry, topic string, partition int) {
	t.Helper()
	held := func(m *dto.Metric) bool {
		found := 0
		for _, l := range m.GetLabel() {
			if l.GetName() == "topic" && l.GetValue() == topic || l.GetName() == "partition" && l.GetValue() == fmt.Sprint(partition) {
				found++
			}
		}
		return found == 2
	}
	for {
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			if f.GetName() == "teplokarta_processor_lag_records" && slices.ContainsFunc(f.GetMetric(), held) {
				return
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("no lag reported for %s/%d: the processor never held it", topic, partition)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitProcessed waits until the processor counted n messages (any result), or fails when ctx ends.
func waitProcessed(t *testing.T, ctx context.Context, reg *prometheus.Registry, n float64) {
	t.Helper()
	for labelledSum(t, reg, "teplokarta_processor_messages_total", "", "") < n {
		if ctx.Err() != nil {
			t.Fatalf("%v messages processed, want %v", labelledSum(t, reg, "teplokarta_processor_messages_total", "", ""), n)
		}
		time.Sleep(50 * time.Millisecond)
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

// A client resends an appeal with its address corrected, so the copy resolves to another municipality:
// with the state in the partitions it would land on another partition of appeals.enriched, meet no claim
// of its id there and be stored twice. The first stage routes it by the scope its id was first re-keyed
// by (dedup.Routes, in Redis), where it is an exact duplicate, as in the other modes; also when Redis lost
// the routes between the two (they are rebuilt from ClickHouse).
func TestPartitionStateFollowsARetryThatMoved(t *testing.T) {
	t.Parallel()
	for _, lost := range []bool{false, true} {
		t.Run(map[bool]string{false: "routes kept", true: "routes lost"}[lost], func(t *testing.T) {
			t.Parallel()
			retryThatMoved(t, lost)
		})
	}
}

func retryThatMoved(t *testing.T, lost bool) {
	b := testenv.Broker(t)
	conn, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const enriched = 6
	// Two municipalities whose scopes go to different partitions of appeals.enriched: otherwise the copy
	// would meet its original's claim anyway, and the test would show nothing.
	var balancer kafka.Murmur2Balancer
	parts := make([]int, enriched)
	for i := range parts {
		parts[i] = i
	}
	first, moved := "61701000", ""
	for _, o := range []string{"61705000", "61650000", "61652000", "61656000", "61658000", "61605000"} {
		if balancer.Balance(kafka.Message{Key: []byte(model.Scope(model.DefaultRegion, o))}, parts...) !=
			balancer.Balance(kafka.Message{Key: []byte(model.Scope(model.DefaultRegion, first))}, parts...) {
			moved = o
			break
		}
	}
	if moved == "" {
		t.Fatal("no municipality on another partition than Ryazan's")
	}
	if err := kafkax.EnsureTopics(ctx, []string{b.Addr()}, kafkax.Security{}, 4, app.DefaultOptions().Pipeline.Topics...); err != nil {
		t.Fatal(err)
	}
	w := rawWriter(t, b.Addr())
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	id := model.AppealID(model.SourcePOS, "77001")
	msg := func(oktmo, text string) kafka.Message {
		return kafka.Message{Topic: model.RawTopic(model.SourcePOS), Key: []byte(id),
			Value: []byte(`{"id":77001,"createdAt":"` + at + `","text":"` + text + `","oktmo":"` + oktmo + `"}`)}
	}
	o := app.DefaultOptions()
	o.Pipeline.Brokers, o.Pipeline.GroupID, o.Dedup.KeyPrefix = []string{b.Addr()}, "moved", prefix
	o.DedupState, o.EnrichedPartitions = app.DedupPartition, enriched
	reg := prometheus.NewRegistry()
	stop := runProcessor(t, o, app.Clients{ClickHouse: conn, Redis: rdb, Registerer: reg})
	if err := w.WriteMessages(ctx, msg(first, "Во дворе дома 5 прорвало трубу, вода заливает подвал")); err != nil {
		t.Fatal(err)
	}
	waitProcessed(t, ctx, reg, 1)
	waitRows(t, conn, 1, time.Minute) // stored: what a rebuild of the routes reads
	if lost {
		keys, err := rdb.Keys(ctx, prefix+"rekey:*").Result()
		if err != nil || len(keys) < 2 {
			t.Fatalf("route keys %v (%v): want the route and the marker", keys, err)
		}
		if err := rdb.Del(ctx, keys...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteMessages(ctx, msg(moved, "Уточняю адрес: во дворе дома 5 прорвало трубу, вода заливает подвал")); err != nil {
		t.Fatal(err)
	}
	waitProcessed(t, ctx, reg, 2)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var rows uint64
	var oktmo string
	if err := conn.QueryRow(ctx, "SELECT count(), any(oktmo) FROM appeals WHERE appeal_id = ?", id).Scan(&rows, &oktmo); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || oktmo != first {
		t.Errorf("the appeal is stored %d times (oktmo %s), want once, in %s", rows, oktmo, first)
	}
	if n := labelledSum(t, reg, "teplokarta_rekey_rerouted_total", "", ""); n != 1 {
		t.Errorf("%v appeals rerouted, want 1", n)
	}
	if n := labelledSum(t, reg, "teplokarta_processor_messages_total", "result", "exact_duplicate"); n != 1 {
		t.Errorf("%v exact duplicates, want 1 (the copy)", n)
	}
}

// The second stage outgrows appeals.enriched: an instance started with --enriched-partitions 7 grows the
// topic that the last one, started with 3, left mid-backlog; 3 → 7 moves scopes to new partitions and
// between old ones. What waits in the old partitions, keyed under 3, is misplaced after the growth: the
// rest of the backlog the first stage re-keyed ahead of the second (how much depends on where the stop
// lands), and, always, replays of the first stage — records already decided, produced again to their
// partition as a first stage that crashed before its commit would. The instance rebuilds its partitions'
// states by scope and forwards each misplaced record to where its scope goes now, where a replay or a
// retry of an appeal stored under the old count is an exact duplicate: ClickHouse equals the truth, with
// no appeal stored twice.
func TestGrowingTheEnrichedTopicCountsNothingTwice(t *testing.T) {
	t.Parallel()
	bl := newBacklog(t, 46, 20000, "grow")
	o := bl.opts
	o.DedupState, o.EnrichedPartitions = app.DedupPartition, 3
	stop := runProcessor(t, o, app.Clients{ClickHouse: bl.conn, Redis: bl.rdb})
	waitProgress(t, bl.conn, bl.truth.Appeals*2/5, 3*time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	before := rowCount(t, bl.conn)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	replayed := replayFirstStage(t, ctx, bl.opts.Pipeline.Brokers[0], 3, 200)
	o.EnrichedPartitions = 7
	reg := prometheus.NewRegistry()
	stop = runProcessor(t, o, app.Clients{ClickHouse: bl.conn, Redis: bl.rdb, Registerer: reg})
	waitRows(t, bl.conn, bl.truth.Appeals, 3*time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	parts, err := kafkax.Partitions(ctx, bl.opts.Pipeline.Brokers, kafkax.Security{}, model.TopicEnriched)
	if err != nil || len(parts) != 7 {
		t.Fatalf("%s has partitions %v (%v), want 7", model.TopicEnriched, parts, err)
	}
	compareWithTruth(t, bl.conn, bl.truth)
	var onNew uint64
	if err := bl.conn.QueryRow(ctx, "SELECT count() FROM appeals WHERE kafka_topic = ? AND kafka_partition >= 3",
		model.TopicEnriched).Scan(&onNew); err != nil {
		t.Fatal(err)
	}
	forwarded := labelledSum(t, reg, "teplokarta_processor_messages_total", "result", "forwarded")
	t.Logf("grew at %d of %d rows, %d records replayed; %d appeals stored from the added partitions; %v records forwarded",
		before, bl.truth.Appeals, replayed, onNew, forwarded)
	if forwarded == 0 {
		t.Fatal("nothing was forwarded: the test showed nothing")
	}
}

// replayFirstStage produces again, to the same partition, the first n records of each of the enriched
// topic's first parts partitions, as a first stage that crashed after producing them and before its
// commit would; it returns how many.
func replayFirstStage(t *testing.T, ctx context.Context, broker string, parts, n int) int {
	t.Helper()
	total := 0
	for p := range parts {
		rd := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: model.TopicEnriched, Partition: p, MaxWait: 100 * time.Millisecond})
		var msgs []kafka.Message
		for len(msgs) < n {
			m, err := rd.ReadMessage(ctx)
			if err != nil {
				rd.Close()
				t.Fatalf("read %s/%d: %v", model.TopicEnriched, p, err)
			}
			msgs = append(msgs, kafka.Message{Key: m.Key, Value: m.Value, Headers: m.Headers})
		}
		rd.Close()
		conn, err := kafka.DialLeader(ctx, "tcp", broker, model.TopicEnriched, p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.WriteMessages(msgs...)
		conn.Close()
		if err != nil {
			t.Fatalf("replay to %s/%d: %v", model.TopicEnriched, p, err)
		}
		total += len(msgs)
	}
	return total
}

// Partitions added under a running instance are taken up without a restart (the consumer group watches
// the topic's partition count): an appeal produced once the first stage's writer knows the new count is
// stored from its scope's new partition, and a retry of an appeal stored before the growth is an exact
// duplicate there.
func TestEnrichedPartitionsAddedWhileRunning(t *testing.T) {
	t.Parallel()
	l := newLive(t, "added", app.DedupPartition)
	ctx, conn, brokers := l.ctx, l.conn, l.opts.Pipeline.Brokers
	// A municipality whose scope goes to an added partition: 2 of 3, 4 of 7.
	const oktmo = "61705000"
	var balancer kafka.Murmur2Balancer
	scope := kafka.Message{Key: []byte(model.Scope(model.DefaultRegion, oktmo))}
	p7 := balancer.Balance(scope, 0, 1, 2, 3, 4, 5, 6)
	if p7 < 3 {
		t.Fatalf("the scope goes to partition %d of 7, not an added one: the test would show nothing", p7)
	}
	if err := kafkax.EnsureTopics(ctx, brokers, kafkax.Security{}, 4, app.DefaultOptions().Pipeline.Topics...); err != nil {
		t.Fatal(err)
	}
	w := rawWriter(t, brokers[0])
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	msg := func(id int, text string) kafka.Message {
		return kafka.Message{Topic: model.RawTopic(model.SourcePOS), Key: []byte(model.AppealID(model.SourcePOS, fmt.Sprint(id))),
			Value: []byte(fmt.Sprintf(`{"id":%d,"createdAt":"%s","text":"%s","oktmo":"%s"}`, id, at, text, oktmo))}
	}
	l.opts.EnrichedPartitions = 3
	reg := l.run(t)
	original := msg(88001, "Во дворе дома 5 прорвало трубу, вода заливает подвал")
	if err := w.WriteMessages(ctx, original); err != nil {
		t.Fatal(err)
	}
	waitProcessed(t, ctx, reg, 1)
	waitRows(t, conn, 1, time.Minute)
	if before, after, err := kafkax.GrowTopic(ctx, brokers, kafkax.Security{}, model.TopicEnriched, 7); err != nil || before != 3 || after != 7 {
		t.Fatalf("grow %s: %d → %d partitions (%v)", model.TopicEnriched, before, after, err)
	}
	// The group takes up the added partitions within its partition watch (5 s): the second stage then
	// reports the scope's new partition's lag. The first stage's writer may see the new count up to its
	// metadata TTL (5 s) later; what it sends meanwhile to the old partition is forwarded.
	waitLagReported(t, ctx, reg, model.TopicEnriched, p7)
	if err := w.WriteMessages(ctx, original, msg(88002, "Не горят фонари во дворе дома 12, вечером темно")); err != nil {
		t.Fatal(err)
	}
	waitProcessed(t, ctx, reg, 3)
	waitRows(t, conn, 2, time.Minute)
	if d := labelledSum(t, reg, "teplokarta_processor_messages_total", "result", "exact_duplicate"); d != 1 {
		t.Errorf("%v exact duplicates, want the retry's 1", d)
	}
	var part int32
	if err := conn.QueryRow(ctx, "SELECT toInt32(kafka_partition) FROM appeals WHERE appeal_id = ?", model.AppealID(model.SourcePOS, "88002")).Scan(&part); err != nil {
		t.Fatal(err)
	}
	if int(part) != p7 {
		t.Errorf("the appeal produced after the growth was stored from partition %d, want the added %d", part, p7)
	}
	if n := rowCount(t, conn); n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
}

// Partitions added to a raw topic under running processors are read without a restart, in every
// dedup-state mode: the consumer groups (the raw engine's, and the first stage's in partition mode) watch
// the partition counts of their topics. An appeal written to an added partition is stored.
func TestRawPartitionsAddedWhileRunning(t *testing.T) {
	t.Parallel()
	for _, state := range []string{app.DedupRedis, app.DedupLocal, app.DedupPartition} {
		t.Run(state, func(t *testing.T) {
			t.Parallel()
			l := newLive(t, "raw-added", state)
			ctx, conn, brokers := l.ctx, l.conn, l.opts.Pipeline.Brokers
			topic := model.RawTopic(model.SourcePOS) // the embedded broker creates the raw topics
			parts, err := kafkax.Partitions(ctx, brokers, kafkax.Security{}, topic)
			if err != nil {
				t.Fatal(err)
			}
			reg := l.run(t)
			at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
			msg := func(id int) kafka.Message {
				return kafka.Message{Key: []byte(model.AppealID(model.SourcePOS, fmt.Sprint(id))),
					Value: []byte(fmt.Sprintf(`{"id":%d,"createdAt":"%s","text":"Не горят фонари во дворе дома %d, вечером темно","oktmo":"61701000"}`, id, at, id))}
			}
			write := func(p int, m kafka.Message) {
				t.Helper()
				c, err := kafka.DialLeader(ctx, "tcp", brokers[0], topic, p)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if _, err := c.WriteMessages(m); err != nil {
					t.Fatal(err)
				}
			}
			write(0, msg(99001))
			waitProcessed(t, ctx, reg, 1) // the processor runs and consumes
			n := len(parts)
			if before, after, err := kafkax.GrowTopic(ctx, brokers, kafkax.Security{}, topic, n+2); err != nil || before != n || after != n+2 {
				t.Fatalf("grow %s: %d → %d partitions (%v), want %d → %d", topic, before, after, err, n, n+2)
			}
			write(n+1, msg(99002))
			waitRows(t, conn, 2, time.Minute)
			var part int32
			if err := conn.QueryRow(ctx, "SELECT toInt32(kafka_partition) FROM appeals WHERE appeal_id = ?",
				model.AppealID(model.SourcePOS, "99002")).Scan(&part); err != nil {
				t.Fatal(err)
			}
			if state != app.DedupPartition && int(part) != n+1 {
				t.Errorf("the appeal written to the added partition %d was stored from partition %d", n+1, part)
			}
		})
	}
}
