package dedup

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/model"
)

const rebuildChunk = 1000

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
	n, err := readStored(ctx, conn, rebuildQuery, []any{since.UTC()}, func(chunk []*model.Appeal, decs []Decision, _ []int64) error {
		return d.restore(ctx, chunk, decs)
	})
	if err != nil {
		return n, err
	}
	d.log.Info("dedup: state rebuilt from clickhouse", "rows", n, "since", since)
	return n, nil
}

// readStored hands apply the stored appeals query selects (args are its parameters), with their decisions
// and when they were stored (unix seconds), in chunks. It returns the number of rows applied.
func readStored(ctx context.Context, conn driver.Conn, query string, args []any,
	apply func([]*model.Appeal, []Decision, []int64) error) (int, error) {
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("dedup: rebuild: query appeals: %w", err)
	}
	defer rows.Close()
	n := 0
	var chunk []*model.Appeal
	var decs []Decision
	var stored []int64
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if err := apply(chunk, decs, stored); err != nil {
			return err
		}
		n += len(chunk)
		chunk, decs, stored = chunk[:0], decs[:0], stored[:0]
		return nil
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
			return n, fmt.Errorf("dedup: rebuild: scan: %w", err)
		}
		a.Origin.Partition = int(partition)
		dec := Decision{Kind: Voice, IncidentID: incidentID}
		if isIncident == 1 || incidentID == "" || incidentID == a.ID {
			dec = Decision{Kind: Incident, IncidentID: a.ID}
		}
		chunk, decs, stored = append(chunk, &a), append(decs, dec), append(stored, processed.Unix())
		if len(chunk) == rebuildChunk {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("dedup: rebuild: read appeals: %w", err)
	}
	err = flush()
	return n, err
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
