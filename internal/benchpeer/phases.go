package benchpeer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/internal/chaos"
	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/rollup"
)

// peer drains the backlog with ClickHouse's Kafka engine into database peer_<round>.
func (b *bench) peer(ctx context.Context, round int) (Result, error) {
	db := fmt.Sprintf("peer_%d", round)
	res := Result{System: SystemPeer, Round: round, Messages: b.truth.Messages, Unique: b.truth.Appeals}
	conn, err := b.freshDB(ctx, db)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	defer b.dropDB(db)
	defer func() { _ = peerDrop(context.WithoutCancel(ctx), b.admin, db) }()
	group := fmt.Sprintf("benchpeer_%d_%d", round, time.Now().UnixNano()) // a new group reads from the start
	var setup []string
	setup = append(setup, peerTables(db, b.brokerAddr(), group, true)...)
	setup = append(setup, peerViews(db, b.gaz)...)
	for _, q := range setup {
		if err := b.admin.Exec(ctx, q); err != nil {
			return res, fmt.Errorf("benchpeer: %w\n%s", err, q)
		}
	}
	if err := dropKafkaTables(ctx, b.admin, db); err != nil {
		return res, err
	}
	if _, err := b.settle(ctx, "before the peer"); err != nil {
		return res, err
	}
	procs := b.procs
	procs.resetPeaks()
	cpu0, err := procs.cpu()
	if err != nil {
		return res, err
	}
	began := time.Now()
	for _, q := range peerTables(db, b.brokerAddr(), group, false) { // the views are waiting: consumption starts
		if err := b.admin.Exec(ctx, q); err != nil {
			return res, fmt.Errorf("benchpeer: %w", err)
		}
	}
	lag := func(ctx context.Context) (int64, error) { return b.peerLag(ctx, group) }
	if res.Rows, err = b.waitDrained(ctx, conn, res.Messages, false, nil, lag); err != nil {
		return res, fmt.Errorf("%w (lag by source: %s)", err, b.peerLagBySource(context.WithoutCancel(ctx), group))
	}
	return b.finish(ctx, conn, res, procs, cpu0, began)
}

// teplokarta drains the backlog with `teplokarta process` into database tk_<round>.
func (b *bench) teplokarta(ctx context.Context, round int) (Result, error) {
	db := fmt.Sprintf("tk_%d", round)
	res := Result{System: SystemTeplokarta, Round: round, Messages: b.truth.Messages, Unique: b.truth.Appeals}
	conn, err := b.freshDB(ctx, db)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	defer b.dropDB(db)
	// The stack's Redis is this run's alone: emptied after the phase, so the next one starts as this did.
	defer b.rdb.FlushAll(context.WithoutCancel(ctx))
	if err := b.dropEnriched(ctx); err != nil {
		return res, err
	}
	metrics, err := freeAddr()
	if err != nil {
		return res, err
	}
	nonce := time.Now().UnixNano()
	procs := procSet{}
	for k, v := range b.procs {
		procs[k] = v
	}
	if _, err := b.settle(ctx, "before teplokarta"); err != nil {
		return res, err
	}
	procs.resetPeaks()
	cpu0, err := procs.cpu()
	if err != nil {
		return res, err
	}
	began := time.Now()
	args := append([]string{"process", "--local", "--brokers", b.brokerAddr(),
		"--group", fmt.Sprintf("benchpeer-%d-%d", round, nonce),
		"--clickhouse-addr", b.cfg.Stack.ClickHouse(), "--clickhouse-database", db,
		"--redis-addr", b.cfg.Stack.Redis(), "--redis-prefix", fmt.Sprintf("benchpeer:%d:%d:", round, nonce),
		"--metrics-addr", metrics}, b.cfg.ProcessFlags...)
	p, err := startChild(b.cfg.Bin, args...)
	if err != nil {
		return res, err
	}
	defer p.stop(30 * time.Second)
	procs[roleProcessor], cpu0[roleProcessor] = p.pid(), 0 // all of the processor's CPU: it starts with the clock
	lag := func(ctx context.Context) (int64, error) {
		l, err := chaos.ProcessorLag(ctx, metrics)
		return int64(l), err
	}
	if res.Rows, err = b.waitDrained(ctx, conn, res.Unique, true, p, lag); err != nil {
		return res, err
	}
	return b.finish(ctx, conn, res, procs, cpu0, began)
}

// finish takes a drained phase's measurements, checks its rows and times the single messages.
func (b *bench) finish(ctx context.Context, conn driver.Conn, res Result, procs procSet, cpu0 usage, began time.Time) (Result, error) {
	res.Took = time.Since(began)
	cpu1, err := procs.cpu()
	if err != nil {
		return res, err
	}
	res.CPU, res.PeakKiB = cpu1.since(cpu0), procs.peaks()
	// ClickHouse's share runs on until it has merged what the drain wrote (settle.go).
	chDone, err := b.settle(ctx, "after "+res.System)
	if err != nil {
		return res, err
	}
	res.CPU[roleClickHouse] = chDone - cpu0[roleClickHouse]
	// Every rollup has each stored row once (the monthly one, polled, may be ahead of the others by a
	// view or two).
	deadline := time.Now().Add(time.Minute)
	for {
		behind, err := rollupsBehind(ctx, conn, res.Rows)
		if err != nil {
			return res, err
		}
		if behind == "" {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("benchpeer: rollups disagree with the %d rows: %s", res.Rows, behind)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res.System == SystemTeplokarta { // its appeals rows are unique: count() is exact
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM appeals").Scan(&n); err != nil {
			return res, err
		}
		if int(n) != res.Unique {
			return res, fmt.Errorf("benchpeer: teplokarta stored %d appeals, want %d", n, res.Unique)
		}
	}
	for range b.cfg.Freshness {
		d, err := b.fresh(ctx, conn)
		if err != nil {
			return res, err
		}
		res.Fresh = append(res.Fresh, d)
	}
	return res, nil
}

// stored is how many rows have reached appeals and its monthly rollup. The rollup, not count() of
// appeals: ReplacingMergeTree folds the peer's stored retries in merges, while the rollup keeps every
// row that was inserted.
func stored(ctx context.Context, conn driver.Conn) (int, error) {
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT toUInt64(sum(voices)) FROM appeal_counts_1mo").Scan(&n); err != nil {
		return 0, err
	}
	return int(n), nil
}

// waitDrained waits until at least want rows are stored and the system has no lag (records after the
// last row, e.g. retries, are part of the backlog too), and returns the rows stored. exact: more than want
// is an error (teplokarta stores each unique appeal once; the peer may store a record twice). A processor
// that exits first fails it.
func (b *bench) waitDrained(ctx context.Context, conn driver.Conn, want int, exact bool, p *child,
	lag func(context.Context) (int64, error)) (int, error) {
	deadline, lastLog := time.Now().Add(b.cfg.DrainTimeout), time.Now()
	for {
		n, err := stored(ctx, conn)
		if err != nil {
			return 0, err
		}
		if exact && n > want {
			return n, fmt.Errorf("benchpeer: %d rows stored, more than the %d expected", n, want)
		}
		if n >= want {
			if l, err := lag(ctx); err == nil && l == 0 {
				return n, nil
			}
		}
		if p != nil && p.exited() {
			return n, fmt.Errorf("benchpeer: the processor exited with %d of %d rows stored:\n%s", n, want, tail(p.out.String(), 2000))
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("benchpeer: %d of %d rows stored after %s", n, want, b.cfg.DrainTimeout)
		}
		if time.Since(lastLog) > 30*time.Second {
			fmt.Fprintf(b.cfg.Log, "benchpeer: %d of %d rows stored\n", n, want)
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			behind, _ := rollupsBehind(context.WithoutCancel(ctx), conn, want)
			return n, fmt.Errorf("benchpeer: %d of %d rows stored (rollups: %s): %w", n, want, behind, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// rollupsBehind names the rollups whose total differs from want ("" when none does).
func rollupsBehind(ctx context.Context, conn driver.Conn, want int) (string, error) {
	var out []string
	for _, t := range rollup.Tables {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT toUInt64(sum(voices)) FROM "+t.Name).Scan(&n); err != nil {
			return "", err
		}
		if int(n) != want {
			out = append(out, fmt.Sprintf("%s %d", t.Name, n))
		}
	}
	return strings.Join(out, ", "), nil
}

// fresh produces the simulator's next new appeal (a retry would add no row to teplokarta) into the
// idle pipeline and times until its row is in appeals. The message joins the truth: the next phase
// drains it as part of the backlog.
func (b *bench) fresh(ctx context.Context, conn driver.Conn) (time.Duration, error) {
	m := b.gen.Next()
	for m.Kind == simulator.KindRetry {
		m = b.gen.Next()
	}
	q := fmt.Sprintf("SELECT count() FROM appeals WHERE appeal_id = %s AND event_time BETWEEN toDateTime(%d) AND toDateTime(%d)",
		chstore.Literal(m.AppealID()), m.EventTime.Unix()-86400, m.EventTime.Unix()+86400)
	began := time.Now()
	if err := b.w.WriteMessages(ctx, simulator.RawRecord(m)); err != nil {
		return 0, fmt.Errorf("benchpeer: produce: %w", err)
	}
	b.truth.Add(m)
	deadline := began.Add(2 * time.Minute)
	for {
		var n uint64
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			return 0, err
		}
		if n > 0 {
			return time.Since(began), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("benchpeer: %s not in appeals after 2 minutes", m.AppealID())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// dropEnriched deletes appeals.enriched, which `--dedup-state partition`'s first stage fills and creates
// anew. Every round drains the same backlog: a round's new consumer group would otherwise read the
// re-keyed records of the rounds before it as well (exact duplicates, decoded and decided all the same),
// and its CPU per message would count that work too.
func (b *bench) dropEnriched(ctx context.Context) error {
	client, closeClient := kafkax.NewClient([]string{b.brokerAddr()}, kafkax.Security{}, 10*time.Second)
	defer closeClient()
	resp, err := client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{model.TopicEnriched}})
	if err != nil {
		return fmt.Errorf("benchpeer: delete %s: %w", model.TopicEnriched, err)
	}
	if err := resp.Errors[model.TopicEnriched]; err != nil && !errors.Is(err, kafka.UnknownTopicOrPartition) {
		return fmt.Errorf("benchpeer: delete %s: %w", model.TopicEnriched, err)
	}
	return nil
}
