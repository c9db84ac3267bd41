package dedup

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/model"
)

// rebuildChunk is how many rows a rebuild reads before it hands them on (a variable: tests make chunks
// small to exercise their order).
var rebuildChunk = 1000

// rebuildQuery reads what the processor stored of every appeal that survived exact deduplication.
// Incidents first, so that band fields point at incidents where an incident and its voice share one.
// Plain SQL that runs on ClickHouse 18.16 and 25.8; an unmerged repeat of a row is harmless (every
// write below is idempotent).
const rebuildQuery = `SELECT appeal_id, region, oktmo, text, event_time, incident_id, is_incident,
       kafka_topic, kafka_partition, kafka_offset, processed_time
FROM appeals
WHERE event_time >= ?
ORDER BY is_incident DESC, event_time, appeal_id`

// rebuildProcessedQuery reads the same rows by when they were stored: Local's entries last from their
// write, as Redis's TTLs do, so it restores what a process that never stopped would still hold.
const rebuildProcessedQuery = `SELECT appeal_id, region, oktmo, text, event_time, incident_id, is_incident,
       kafka_topic, kafka_partition, kafka_offset, processed_time
FROM appeals
WHERE processed_time >= ?
ORDER BY is_incident DESC, event_time, appeal_id`

// Rebuild re-creates the dedup state from ClickHouse's appeals table (rows whose event time is at or
// after since) after Redis lost it: the id claims, so that a replay is still recognised as itself and a
// retry as a duplicate, and the near-duplicate members, so that new reports still find their incidents.
// Existing claims are kept (NX), so it may run while processors are live. Pass since = now − IDHorizon
// to restore every claim still inside the horizon. It returns the number of rows applied.
func (d *Redis) Rebuild(ctx context.Context, conn driver.Conn, since time.Time) (int, error) {
	n, err := readStored(ctx, conn, rebuildQuery, []any{since.UTC()}, nil, func(c storedChunk) error {
		return d.restore(ctx, c.appeals, c.decs)
	})
	if err != nil {
		return n, err
	}
	d.log.Info("dedup: state rebuilt from clickhouse", "rows", n, "since", since)
	return n, nil
}

// storedChunk is a run of stored rows (rebuildChunk at most) with their decisions, when they were stored
// (unix seconds) and, when readStored was given a prep, what it computed of them.
type storedChunk struct {
	appeals []*model.Appeal
	decs    []Decision
	stored  []int64
	items   []*item
}

// readStored hands apply the stored appeals query selects (args are its parameters) in chunks, in the
// rows' order, and returns the number of rows applied. prep, if not nil, runs on each chunk before apply
// gets it, on up to GOMAXPROCS chunks at once while the next rows are read: a rebuild spends most of its
// time stemming (≈ 9 µs a row), which needs no lock and no order; apply's writes into the state do.
func readStored(ctx context.Context, conn driver.Conn, query string, args []any,
	prep func([]*model.Appeal) []*item, apply func(storedChunk) error) (int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type job struct {
		storedChunk
		ready chan struct{} // closed once prep ran
	}
	workers := runtime.GOMAXPROCS(0)
	todo := make(chan *job, workers)      // to prep
	inOrder := make(chan *job, 2*workers) // to apply, in the rows' order
	var preps sync.WaitGroup
	for range workers {
		preps.Go(func() {
			for j := range todo {
				if prep != nil {
					j.items = prep(j.appeals)
				}
				close(j.ready)
			}
		})
	}
	n := 0
	applied := make(chan error, 1)
	go func() {
		var err error
		for j := range inOrder { // after a failure, only drained
			<-j.ready
			if err == nil {
				if err = apply(j.storedChunk); err != nil {
					cancel(err) // stops the reading
				} else {
					n += len(j.appeals)
				}
			}
		}
		applied <- err
	}()
	readErr := func() error {
		rows, err := conn.Query(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("dedup: rebuild: query appeals: %w", err)
		}
		defer rows.Close()
		next := func() *job {
			return &job{ready: make(chan struct{}), storedChunk: storedChunk{appeals: make([]*model.Appeal, 0, rebuildChunk),
				decs: make([]Decision, 0, rebuildChunk), stored: make([]int64, 0, rebuildChunk)}}
		}
		j := next()
		flush := func() {
			if len(j.appeals) > 0 {
				inOrder <- j
				todo <- j
				j = next()
			}
		}
		for rows.Next() {
			var (
				a          model.Appeal
				incidentID string
				isIncident uint8
				partition  int32
				processed  time.Time
			)
			if err := rows.Scan(&a.ID, &a.Region, &a.OKTMO, &a.Text, &a.EventTime, &incidentID, &isIncident,
				&a.Origin.Topic, &partition, &a.Origin.Offset, &processed); err != nil {
				return fmt.Errorf("dedup: rebuild: scan: %w", err)
			}
			a.Origin.Partition = int(partition)
			dec := Decision{Kind: Voice, IncidentID: incidentID}
			if isIncident == 1 || incidentID == "" || incidentID == a.ID {
				dec = Decision{Kind: Incident, IncidentID: a.ID}
			}
			j.appeals, j.decs, j.stored = append(j.appeals, &a), append(j.decs, dec), append(j.stored, processed.Unix())
			if len(j.appeals) == rebuildChunk {
				flush()
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("dedup: rebuild: read appeals: %w", err)
		}
		flush()
		return nil
	}()
	close(todo)
	close(inOrder)
	preps.Wait()
	if err := <-applied; err != nil {
		return n, err // the reading's error, if any, is its cancellation
	}
	return n, readErr
}

// restore writes the members and id claims of already decided appeals in one round trip.
func (d *Redis) restore(ctx context.Context, batch []*model.Appeal, decs []Decision) error {
	items := d.prepare(batch)
	var members []*item
	for i, it := range items {
		it.dec = decs[i]
		if it.lsh {
			if it.dec.Kind == Voice {
				it.rec.incident = it.dec.IncidentID
			}
			members = append(members, it)
		}
	}
	claims := make([]*redis.BoolCmd, len(items))
	_, err := d.runCommits(ctx, "rebuild", members, false, func(p redis.Pipeliner) {
		for i, it := range items {
			claims[i] = p.SetNX(ctx, d.idKey(it.a.ID), encodeClaim(it.origin, it.dec), d.cfg.IDHorizon)
		}
	})
	if err != nil {
		return fmt.Errorf("dedup: rebuild: %w", err)
	}
	for i, c := range claims {
		if err := c.Err(); err != nil {
			return fmt.Errorf("dedup: rebuild: claim %s: %w", items[i].a.ID, err)
		}
	}
	return nil
}
