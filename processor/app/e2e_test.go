package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/app"
)

// simulate sends n simulated messages to the broker and returns the simulator's ground truth.
func simulate(t testing.TB, brokerAddr string, seed uint64, n int, start time.Time) *simulator.Truth {
	t.Helper()
	return simulateRate(t, brokerAddr, seed, n, start, 0.05) // ~4,300 a day, a big region's volume
}

// simulateRate sends n simulated appeals written from start on at rate appeals per second of event time.
func simulateRate(t testing.TB, brokerAddr string, seed uint64, n int, start time.Time, rate float64) *simulator.Truth {
	t.Helper()
	cfg := simulator.DefaultConfig()
	cfg.Seed, cfg.Start, cfg.Rate, cfg.VKGeoShare = seed, start, rate, 1 // every VK post carries its place
	g, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := rawWriter(t, brokerAddr)
	truth := simulator.NewTruth()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute+time.Duration(n/2000)*time.Second)
	defer cancel()
	if err := simulator.Run(ctx, g, simulator.KafkaSink{W: w}, simulator.RunConfig{Count: n, BatchSize: 1000}, truth); err != nil {
		t.Fatal(err)
	}
	return truth
}

// waitRows waits until ClickHouse holds want appeal rows and every table filled from them by a
// materialized view has them too. The wait for the views matters: ClickHouse commits an INSERT's appeals
// part before it runs the views (one after another, in name order), so a reader that saw the last rows
// arrive in appeals may still, for a few milliseconds, find them missing from appeal_counts_1h and _1m.
// Reading the rollups at that instant made the crash and rebalance tests fail now and then with "1073 of
// 51009 windows differ": the rows were all in appeals and were counted moments later. appeal_progress is
// the last view, written after every rollup, so the processor never resumes past rows the rollups lack.
//
// stall bounds how long the count may stand still below want, not the whole wait: speed is measured by
// benchmarks, and a machine shared with other jobs (the chaos suite beside make test stored 9,172 of
// 18,979 appeals in 3 minutes) must not fail a test whose rows are all arriving. Rows that never come
// (a lost message, a hung processor) still fail it, after stall.
func waitRows(t testing.TB, conn driver.Conn, want int, stall time.Duration) {
	t.Helper()
	waitRowsWhile(t, conn, want, stall, nil)
}

// waitRowsWhile is waitRows that also fails as soon as alive reports an error (a child process that
// exited: its rows will never come, and the stall bound may be long).
func waitRowsWhile(t testing.TB, conn driver.Conn, want int, stall time.Duration, alive func() error) {
	t.Helper()
	var got, prev uint64
	moved := time.Now()
	for {
		if err := conn.QueryRow(context.Background(), "SELECT count() FROM appeals").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got == uint64(want) {
			break
		}
		if got > uint64(want) {
			t.Fatalf("ClickHouse holds %d appeals, more than the %d unique ones sent", got, want)
		}
		if got != prev {
			prev, moved = got, time.Now()
		}
		if time.Since(moved) > stall {
			t.Fatalf("ClickHouse holds %d appeals and got no new row for %s, want %d", got, stall, want)
		}
		if alive != nil {
			if err := alive(); err != nil {
				t.Fatalf("ClickHouse holds %d appeals, want %d: %v", got, want, err)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	deadline := time.Now().Add(stall)
	for {
		behind := viewsBehind(t, conn, uint64(want))
		if behind == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("views still disagree with appeals %s after the last row: %s", stall, behind)
			return // the comparison that follows says where
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// viewsBehind names the view-filled tables whose totals differ from want ("" when none does).
func viewsBehind(t testing.TB, conn driver.Conn, want uint64) string {
	t.Helper()
	var out []string
	for _, table := range []string{"appeal_counts_1m", "appeal_counts_1h", "appeal_counts_1d", "appeal_counts_1mo", "appeal_counts_oktmo_1d"} {
		var n uint64
		if err := conn.QueryRow(context.Background(), "SELECT sum(voices) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			out = append(out, fmt.Sprintf("%s %d", table, n))
		}
	}
	var stored, rows uint64
	if err := conn.QueryRow(context.Background(), `SELECT
			(SELECT count() FROM appeals WHERE (kafka_topic, kafka_partition, kafka_offset) IN
				(SELECT kafka_topic, kafka_partition, max(max_offset) FROM appeal_progress GROUP BY kafka_topic, kafka_partition)),
			(SELECT uniqExact(kafka_topic, kafka_partition) FROM appeals)`).Scan(&stored, &rows); err != nil {
		t.Fatal(err)
	}
	if stored != rows {
		out = append(out, fmt.Sprintf("appeal_progress names the last row of %d of %d partitions", stored, rows))
	}
	return strings.Join(out, ", ")
}

type cellKey struct {
	start  int64
	oktmo  string
	source string
}

// compareWithTruth checks ClickHouse's per-window rollups and totals against the simulator's ground truth.
func compareWithTruth(t *testing.T, conn driver.Conn, truth *simulator.Truth) {
	t.Helper()
	ctx := context.Background()
	var dupIDs int64
	if err := conn.QueryRow(ctx, "SELECT count() - uniqExact(appeal_id) FROM appeals").Scan(&dupIDs); err != nil {
		t.Fatal(err)
	}
	if dupIDs > 0 {
		r, err := conn.Query(ctx, `SELECT appeal_id, groupArray(kafka_topic), groupArray(kafka_partition), groupArray(kafka_offset), groupArray(processed_time)
			FROM appeals GROUP BY appeal_id HAVING count() > 1 LIMIT 5`)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var id string
			var topics []string
			var parts []int32
			var offs []int64
			var times []time.Time
			if err := r.Scan(&id, &topics, &parts, &offs, &times); err != nil {
				t.Fatal(err)
			}
			t.Errorf("stored twice: %s from %v %v %v at %v", id, topics, parts, offs, times)
		}
		r.Close()
		t.Fatalf("%d appeal rows are repeats", dupIDs)
	}
	rows, err := conn.Query(ctx, `SELECT window_start, oktmo, source, sum(voices), sum(incidents) FROM appeal_counts_1m
		GROUP BY window_start, oktmo, source`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[cellKey][2]uint64{}
	for rows.Next() {
		var ws time.Time
		var oktmo, src string
		var voices, incidents uint64
		if err := rows.Scan(&ws, &oktmo, &src, &voices, &incidents); err != nil {
			t.Fatal(err)
		}
		got[cellKey{ws.Unix(), oktmo, src}] = [2]uint64{voices, incidents}
	}
	rows.Close()
	cells := truth.Cells()
	mismatch := 0
	for _, c := range cells {
		k := cellKey{c.Start.Unix(), c.OKTMO, c.Source}
		if got[k][0] != uint64(c.Appeals) {
			if mismatch < 10 {
				t.Errorf("window %s %s %s: ClickHouse %d appeals, truth %d", c.Start.Format(time.RFC3339), c.OKTMO, c.Source, got[k][0], c.Appeals)
			}
			mismatch++
		}
		delete(got, k)
	}
	for k, v := range got {
		t.Errorf("window %s %s %s: ClickHouse has %d appeals the simulator never sent", time.Unix(k.start, 0).UTC().Format(time.RFC3339), k.oktmo, k.source, v[0])
	}
	if mismatch > 0 {
		explainRollupGap(t, conn)
		t.Fatalf("%d of %d windows differ", mismatch, len(cells))
	}
	// Every rollup agrees on the totals, and so do the raw rows.
	for _, q := range []string{"SELECT sum(voices) FROM appeal_counts_1h", "SELECT sum(voices) FROM appeal_counts_1d",
		"SELECT count() FROM appeals FINAL", "SELECT uniqExact(appeal_id) FROM appeals"} {
		var n uint64
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != uint64(truth.Appeals) {
			t.Errorf("%s = %d, truth %d", q, n, truth.Appeals)
		}
	}
	// Cross-source copies carry the same text: they must all be voices. Burst neighbours are voices when
	// near-duplicate detection recognises them.
	// A copy and its original share one incident, whichever of the two was processed first.
	incidentOf := map[string]string{}
	rows, err = conn.Query(ctx, "SELECT appeal_id, incident_id FROM appeals")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, inc string
		if err := rows.Scan(&id, &inc); err != nil {
			t.Fatal(err)
		}
		incidentOf[id] = inc
	}
	rows.Close()
	apart := 0
	for _, c := range truth.Copies {
		if incidentOf[c[0]] == "" || incidentOf[c[0]] != incidentOf[c[1]] {
			apart++
		}
	}
	// Two partitions deciding the same text in the same instant settle through the text claim; a copy may
	// still stay apart (observed: 0.1–0.5 %, more after crashes and rebalances; an open issue). Counts of
	// appeals are exact regardless; this bounds how often a problem is split into two incidents.
	if len(truth.Copies) == 0 || apart*100 > len(truth.Copies) {
		t.Errorf("%d of %d same-text copies from another channel do not share their original's incident", apart, len(truth.Copies))
	}
	t.Logf("same-text copies apart from their original's incident: %d of %d", apart, len(truth.Copies))
	var incidents uint64
	if err := conn.QueryRow(ctx, "SELECT sum(is_incident) FROM appeals").Scan(&incidents); err != nil {
		t.Fatal(err)
	}
	lo, hi := uint64(truth.Incidents), uint64(truth.Incidents+truth.NearVoices)
	if incidents < lo || incidents > hi {
		t.Errorf("incidents = %d, want within [%d, %d] (truth: %d incidents, %d same-text voices, %d burst neighbours)",
			incidents, lo, hi, truth.Incidents, truth.Voices, truth.NearVoices)
	}
	t.Logf("truth: %d messages, %d retries, %d appeals, %d incidents, %d voices, %d burst neighbours, %d late; stored incidents %d",
		truth.Messages, truth.Retries, truth.Appeals, truth.Incidents, truth.Voices, truth.NearVoices, truth.Late, incidents)
	// Every incident and every burst neighbour not recognised is stored as an incident, so the
	// neighbours recognised as voices are what the stored incidents fall short of the upper bound
	// (assuming no two different problems merge: TestDifferentProblemsSameStreet and its kin in
	// processor/dedup). The near-duplicate recall docs/deduplication.md compares index sizes by.
	if truth.NearVoices > 0 && incidents <= hi {
		found := int(hi - incidents)
		t.Logf("burst neighbours recognised as voices: %d of %d (%.1f %%)", found, truth.NearVoices, 100*float64(found)/float64(truth.NearVoices))
	}
}

// backlog is a test's own broker, ClickHouse database and Redis prefix, with a simulated stream of the
// last month on the broker, and the processor options that consume it.
type backlog struct {
	conn  driver.Conn
	rdb   *redis.Client
	truth *simulator.Truth
	opts  app.Options
}

func newBacklog(t *testing.T, seed uint64, messages int, group string) backlog {
	t.Helper()
	b := testenv.Broker(t)
	conn, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	truth := simulate(t, b.Addr(), seed, messages, time.Now().Add(-30*24*time.Hour).Truncate(time.Hour))
	o := app.DefaultOptions()
	o.Pipeline.Brokers, o.Pipeline.GroupID, o.Dedup.KeyPrefix = []string{b.Addr()}, group, prefix
	return backlog{conn: conn, rdb: rdb, truth: truth, opts: o}
}

func TestEndToEndMatchesSimulatorTruth(t *testing.T) {
	t.Parallel()
	bl := newBacklog(t, 42, 20000, "e2e")
	conn, truth := bl.conn, bl.truth
	stop := runProcessor(t, bl.opts, app.Clients{ClickHouse: conn, Redis: bl.rdb})
	waitRows(t, conn, truth.Appeals, 3*time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	compareWithTruth(t, conn, truth)
}

// runProcessor builds a processor and runs it in this process; stop ends it and returns what Run returned.
func runProcessor(t testing.TB, o app.Options, c app.Clients) (stop func() error) {
	t.Helper()
	eng, err := app.Build(o, c)
	if err != nil {
		t.Fatal(err)
	}
	return run(eng)
}

// run runs a built processor in this process; stop ends it and returns what Run returned.
func run(eng *app.Processor) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	return func() error { cancel(); return <-done }
}

// With an in-flight budget of one batch, sixteen partitions take turns: nothing starves, nothing is lost,
// and the budget is all returned once the backlog is stored. Meanwhile the lag gauge shows each
// partition's backlog shrinking to 0, and it is gone with the partitions when the processor stops.
func TestTightInFlightBudget(t *testing.T) {
	t.Parallel()
	b := testenv.Broker(t)
	conn, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	truth := simulate(t, b.Addr(), 5, 5000, time.Now().Add(-30*24*time.Hour).Truncate(time.Hour))

	o := app.DefaultOptions()
	o.Pipeline.Brokers, o.Pipeline.GroupID, o.Dedup.KeyPrefix = []string{b.Addr()}, "tight", prefix
	o.Pipeline.BatchSize, o.Pipeline.MaxInFlight, o.Pipeline.Prefetch = 100, 100, 50
	reg := prometheus.NewRegistry()
	stop := runProcessor(t, o, app.Clients{ClickHouse: conn, Redis: rdb, Registerer: reg})
	var maxLag float64 // the most records behind, summed over partitions, seen while the backlog drained
	sampling, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			sum := 0.0
			for _, v := range gaugeValues(t, reg, "teplokarta_processor_lag_records") {
				sum += v
			}
			maxLag = max(maxLag, sum)
			select {
			case <-sampling:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	waitRows(t, conn, truth.Appeals, 3*time.Minute)
	close(sampling)
	<-sampled
	if maxLag < 1000 {
		t.Errorf("the lag gauge never showed the backlog: at most %v records behind, %d sent", maxLag, truth.Messages)
	}
	// A batch's rows are visible before its partition's lag is set (the sink answers, then the offsets
	// are committed and the gauge moves): give the last batches that moment.
	lags := gaugeValues(t, reg, "teplokarta_processor_lag_records")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		behind := 0.0
		for _, v := range lags {
			behind += v
		}
		if len(lags) == 16 && behind == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
		lags = gaugeValues(t, reg, "teplokarta_processor_lag_records")
	}
	if len(lags) != 16 {
		t.Errorf("lag reported for %d partitions, want the 16 raw partitions: %v", len(lags), lags)
	}
	for part, v := range lags {
		if v != 0 {
			t.Errorf("partition %s: lag %v with the backlog stored", part, v)
		}
	}
	inFlight := func() float64 {
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			if f.GetName() == "teplokarta_processor_in_flight_records" {
				return f.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("teplokarta_processor_in_flight_records is not registered")
		return 0
	}
	deadline := time.Now().Add(10 * time.Second)
	for inFlight() != 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := inFlight(); n != 0 {
		t.Fatalf("%v records still hold the in-flight budget with the backlog stored", n)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if lags := gaugeValues(t, reg, "teplokarta_processor_lag_records"); len(lags) != 0 {
		t.Errorf("lag still reported after the processor stopped: %v", lags)
	}
	compareWithTruth(t, conn, truth)
}

// gaugeValues returns a gauge family's values by their labels ("topic=…,partition=…").
func gaugeValues(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	fams, err := reg.Gather()
	if err != nil {
		t.Error(err)
		return nil
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			out[strings.Join(labels, ",")] = m.GetGauge().GetValue()
		}
	}
	return out
}

// explainRollupGap logs which inserts' rows are in appeals but missing from the minute rollup: grouped by
// Kafka partition and the insert's processed_time, so a lost view write shows as one insert.
func explainRollupGap(t *testing.T, conn driver.Conn) {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT kafka_topic, kafka_partition, processed_time, count(), min(kafka_offset), max(kafka_offset), min(event_time), max(event_time)
		FROM appeals
		WHERE (toStartOfMinute(event_time), oktmo, category, source) IN (
			SELECT window_start, oktmo, category, source FROM (
				SELECT toStartOfMinute(event_time) AS window_start, oktmo, category, source, count() AS n FROM appeals
				GROUP BY window_start, oktmo, category, source) ANY LEFT JOIN (
				SELECT window_start, oktmo, category, source, sum(voices) AS r FROM appeal_counts_1m
				GROUP BY window_start, oktmo, category, source) USING (window_start, oktmo, category, source)
			WHERE n != r)
		GROUP BY kafka_topic, kafka_partition, processed_time ORDER BY processed_time LIMIT 40`)
	if err != nil {
		t.Logf("explain rollup gap: %v", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var topic string
		var part int32
		var pt, minT, maxT time.Time
		var n uint64
		var lo, hi int64
		if err := rows.Scan(&topic, &part, &pt, &n, &lo, &hi, &minT, &maxT); err != nil {
			t.Logf("explain rollup gap: %v", err)
			return
		}
		t.Logf("rows in differing windows: %s/%d processed %s: %d rows, offsets %d–%d, events %s–%s", topic, part,
			pt.Format(time.RFC3339), n, lo, hi, minT.Format(time.RFC3339), maxT.Format(time.RFC3339))
	}
}

// rawWriter is a producer to the test's broker, closed when the test ends.
func rawWriter(t testing.TB, brokerAddr string) *kafkax.Writer {
	t.Helper()
	pc := kafkax.DefaultProducerConfig()
	pc.Brokers = []string{brokerAddr}
	w, err := kafkax.NewWriter(pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}
