package rollup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/obs"
)

// ErrStillDiffers: a repair ran and the partition still differs (something wrote during it without the
// gate, or ClickHouse failed midway); the next check repairs it again.
var ErrStillDiffers = errors.New("rollup: still differs after repair")

// Checker runs Verify and Repair with the gate closed and counts what it found.
type Checker struct {
	conn driver.Conn
	gate *Gate  // nil: no concurrent writer to keep out (a stopped processor, a test)
	dial Dialer // reaches each shard of a sharded cluster; nil: repair refuses there
	auth chstore.Auth
	log  *slog.Logger
	m    *Metrics
}

// NewChecker builds a checker. gate may be nil only when no processor writes meanwhile.
func NewChecker(conn driver.Conn, gate *Gate, log *slog.Logger) *Checker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Checker{conn: conn, gate: gate, log: log, m: NewMetrics()}
}

// WithDialer lets the checker repair a cluster of several shards, on each shard's own server (RepairWith).
func (c *Checker) WithDialer(dial Dialer) *Checker {
	c.dial = dial
	return c
}

// WithAuth sets who the check's reads of every replica connect as on a cluster (remote()): the
// connection's own user and password. Without it, user default without a password.
func (c *Checker) WithAuth(a chstore.Auth) *Checker {
	c.auth = a
	return c
}

// Metrics of the checks.
type Metrics struct {
	Checked     prometheus.Counter
	Differences *prometheus.CounterVec
	Repaired    *prometheus.CounterVec
	Seconds     prometheus.Histogram
}

// NewMetrics creates the metrics, unregistered.
func NewMetrics() *Metrics {
	return &Metrics{
		Checked: prometheus.NewCounter(prometheus.CounterOpts{Name: "teplokarta_rollup_checked_partitions_total",
			Help: "Rollup partitions compared with what appeals derive."}),
		Differences: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "teplokarta_rollup_differences_total",
			Help: "Rollup partitions (or progress records) found to differ from appeals."}, []string{"table"}),
		Repaired: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "teplokarta_rollup_repairs_total",
			Help: "Rollup partitions rebuilt from appeals (or progress records rewritten)."}, []string{"table"}),
		Seconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "teplokarta_rollup_check_seconds",
			Help: "Duration of one check (with repair), gate closed.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
	}
}

// Register adds the checker's metrics to reg.
func (c *Checker) Register(reg prometheus.Registerer) error {
	return obs.Register(reg, "rollup", c.m.Checked, c.m.Differences, c.m.Repaired, c.m.Seconds)
}

// Check compares scope and, with repair, rebuilds what differs and checks it again.
func (c *Checker) Check(ctx context.Context, scope Scope, repair bool) (Report, error) {
	began := time.Now()
	defer func() { c.m.Seconds.Observe(time.Since(began).Seconds()) }()
	if c.gate != nil {
		open, err := c.gate.Close(ctx)
		if err != nil {
			return Report{}, err
		}
		defer open()
	}
	topo, err := chstore.Discover(ctx, c.conn)
	if err != nil {
		return Report{}, fmt.Errorf("rollup: %w", err)
	}
	topo.Auth = c.auth
	if topo.Clustered() {
		if err := waitReplicasSynced(ctx, c.conn, topo); err != nil {
			return Report{}, err
		}
	}
	rep, err := Verify(ctx, c.conn, scope)
	if err != nil {
		return rep, err
	}
	c.m.Checked.Add(float64(rep.Checked))
	for _, d := range rep.Diffs {
		c.m.Differences.WithLabelValues(d.Table).Inc()
		c.log.Warn("rollup differs from appeals", "table", d.Table, "partition", d.Partition,
			"voices", d.Got.Voices, "want_voices", d.Want.Voices, "incidents", d.Got.Incidents, "want_incidents", d.Want.Incidents)
	}
	for _, p := range rep.Progress {
		c.m.Differences.WithLabelValues("appeal_progress").Inc()
		c.log.Warn("progress record behind appeals", "topic", p.Topic, "partition", p.Partition, "recorded", p.Recorded, "stored", p.Stored)
	}
	if !repair || rep.Clean() {
		return rep, nil
	}
	if err := RepairWith(ctx, c.conn, c.dial, rep); err != nil {
		return rep, err
	}
	if topo.Clustered() { // the swap went to one replica; the verify below may read another
		if err := waitReplicasSynced(ctx, c.conn, topo); err != nil {
			return rep, err
		}
	}
	again := Scope{Partitions: map[string][]uint32{}, Kafka: []KafkaPartition{}, Deep: scope.Deep}
	for _, d := range rep.Diffs {
		c.m.Repaired.WithLabelValues(d.Table).Inc()
		again.Partitions[d.Table] = append(again.Partitions[d.Table], d.Partition)
	}
	for _, p := range rep.Progress {
		c.m.Repaired.WithLabelValues("appeal_progress").Inc()
		again.Kafka = append(again.Kafka, KafkaPartition{Topic: p.Topic, Partition: p.Partition})
	}
	after, err := Verify(ctx, c.conn, again)
	if err != nil {
		return rep, err
	}
	if !after.Clean() {
		return rep, fmt.Errorf("%w: %v %v", ErrStillDiffers, after.Diffs, after.Progress)
	}
	c.log.Info("rollups repaired from appeals", "partitions", len(rep.Diffs), "progress_records", len(rep.Progress))
	return rep, nil
}

// ScopeOf is the scope touched by rows: every rollup partition their event times fall in, and their
// Kafka partitions' progress records.
func ScopeOf(rows []*model.Appeal) Scope {
	s := Scope{Partitions: map[string][]uint32{}, Kafka: []KafkaPartition{}}
	seenPart := map[string]map[uint32]bool{}
	seenKafka := map[KafkaPartition]bool{}
	for _, a := range rows {
		for _, t := range Tables {
			p := t.PartitionOf(t.WindowOf(a))
			if seenPart[t.Name] == nil {
				seenPart[t.Name] = map[uint32]bool{}
			}
			if !seenPart[t.Name][p] {
				seenPart[t.Name][p] = true
				s.Partitions[t.Name] = append(s.Partitions[t.Name], p)
			}
		}
		k := KafkaPartition{Topic: a.Origin.Topic, Partition: int32(a.Origin.Partition)}
		if !seenKafka[k] {
			seenKafka[k] = true
			s.Kafka = append(s.Kafka, k)
		}
	}
	return s
}

// Settle makes the rollups and progress records of rows whose INSERT reached appeals but may have missed
// some views agree with appeals (the sink calls it after such an INSERT).
func (c *Checker) Settle(ctx context.Context, rows []*model.Appeal) error {
	_, err := c.Check(ctx, ScopeOf(rows), true)
	return err
}

// CheckResumed is the check a processor runs before it resumes Kafka partitions: the progress records of
// those partitions, and every rollup partition holding their last rows (offsets within window of the
// highest stored) — where an INSERT cut short by a crash would have left its views behind. What differs
// is repaired before the partitions' progress is read.
func (c *Checker) CheckResumed(ctx context.Context, partitions map[string][]int, window int64) error {
	var kafka []KafkaPartition
	for topic, ps := range partitions {
		for _, p := range ps {
			kafka = append(kafka, KafkaPartition{Topic: topic, Partition: int32(p)})
		}
	}
	if len(kafka) == 0 {
		return nil
	}
	days, err := recentDays(ctx, c.conn, kafka, window)
	if err != nil {
		return err
	}
	scope := Scope{Partitions: map[string][]uint32{}, Kafka: kafka}
	for _, t := range Tables {
		seen := map[uint32]bool{}
		for _, d := range days {
			cands := []time.Time{d}
			if t.Local != nil {
				// A local day or month starts within 14 hours of its UTC one, so its partition is that of
				// the UTC window of the day before, of d or of the day after, or of the day before either.
				for _, c := range []time.Time{d.Add(-day), d, d.Add(day)} {
					w := t.Local(c, time.UTC)
					cands = append(cands, w, w.Add(-day))
				}
			}
			for _, c := range cands {
				if p := t.PartitionOf(c); !seen[p] {
					seen[p] = true
					scope.Partitions[t.Name] = append(scope.Partitions[t.Name], p)
				}
			}
		}
	}
	_, err = c.Check(ctx, scope, true)
	return err
}

// recentDays returns the days of event time of each partition's rows within window offsets of its
// highest stored offset. Two flat queries rather than one with subqueries: on a cluster of several shards
// appeals is Distributed, and ClickHouse refuses an IN or JOIN subquery over a Distributed table inside a
// distributed query (distributed_product_mode = 'deny').
func recentDays(ctx context.Context, conn driver.Conn, kafka []KafkaPartition, window int64) ([]time.Time, error) {
	list := tupleList(kafka)
	highest, err := conn.Query(ctx, fmt.Sprintf(`SELECT kafka_topic, kafka_partition, max(kafka_offset) FROM appeals
		WHERE (kafka_topic, kafka_partition) IN (%s) GROUP BY kafka_topic, kafka_partition`, list))
	if err != nil {
		return nil, fmt.Errorf("rollup: highest offsets of resumed partitions: %w", err)
	}
	var recent []string
	for highest.Next() {
		var k KafkaPartition
		var top int64
		if err := highest.Scan(&k.Topic, &k.Partition, &top); err != nil {
			highest.Close()
			return nil, fmt.Errorf("rollup: highest offsets of resumed partitions: %w", err)
		}
		recent = append(recent, fmt.Sprintf("(kafka_topic = '%s' AND kafka_partition = %d AND kafka_offset >= %d)", escape(k.Topic), k.Partition, top-window))
	}
	highest.Close()
	if err := highest.Err(); err != nil {
		return nil, fmt.Errorf("rollup: highest offsets of resumed partitions: %w", err)
	}
	if len(recent) == 0 {
		return nil, nil
	}
	q := fmt.Sprintf(`SELECT DISTINCT toDateTime(toStartOfDay(event_time)) FROM appeals
		WHERE (kafka_topic, kafka_partition) IN (%s) AND (%s)`, list, strings.Join(recent, " OR "))
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("rollup: recent rows of resumed partitions: %w", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var d time.Time
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, d.UTC())
	}
	return out, rows.Err()
}
