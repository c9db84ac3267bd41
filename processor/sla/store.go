package sla

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/model"
)

// store keeps appeal states: ClickHouse is the record (appeal_sla + appeal_sla_extra + appeal_events),
// Redis a cache of it that may vanish at any time. A cache miss reads ClickHouse.
type store struct {
	rdb         redis.UniversalClient
	ch          driver.Conn
	prefix      string
	resolvedTTL time.Duration

	topo chstore.TopologyOnce // latest.go
}

func (s *store) key(appealID string) string { return s.prefix + "sla:appeal:" + appealID }

// load returns the states of ids that exist; absent ids are new appeals (or unknown ones).
func (s *store) load(ctx context.Context, ids []string) (map[string]*State, error) {
	out := make(map[string]*State, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// GETs in a pipeline, not one MGET: the keys hash to many slots, which a Redis Cluster refuses in
	// one command (go-redis splits a pipeline by node).
	gets := make([]*redis.StringCmd, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			gets[i] = p.Get(ctx, s.key(id))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("sla: read states from redis: %w", err)
	}
	var miss []string
	for i, g := range gets {
		str, err := g.Result()
		if errors.Is(err, redis.Nil) {
			miss = append(miss, ids[i])
			continue
		} else if err != nil {
			return nil, fmt.Errorf("sla: read states from redis: %w", err)
		}
		var st State
		if err := json.Unmarshal([]byte(str), &st); err != nil {
			miss = append(miss, ids[i]) // a damaged cache entry: ClickHouse knows better
			continue
		}
		out[ids[i]] = &st
	}
	if len(miss) == 0 {
		return out, nil
	}
	return out, s.loadCH(ctx, miss, out)
}

// loadCH reads the latest version of each appeal with the event ids applied to it.
func (s *store) loadCH(ctx context.Context, ids []string, out map[string]*State) error {
	q, err := s.latest(ctx, "appeal_sla", []string{"region", "oktmo", "category", "source", "agency", "status",
		"received_time", "deadline", "resolved_time", "breached", "updated_time"}, "has(?, appeal_id)", "")
	if err != nil {
		return fmt.Errorf("sla: read states from clickhouse: %w", err)
	}
	rows, err := s.query(ctx, q, ids)
	if err != nil {
		return fmt.Errorf("sla: read states from clickhouse: %w", err)
	}
	for rows.Next() {
		var st State
		var breached uint8
		if err := rows.Scan(&st.AppealID, &st.Region, &st.OKTMO, &st.Category, &st.Source, &st.Agency, &st.Status,
			&st.Received, &st.Deadline, &st.Resolved, &breached, &st.Updated, &st.Version); err != nil {
			rows.Close()
			return fmt.Errorf("sla: read states from clickhouse: %w", err)
		}
		st.Breached = breached == 1
		st.Received, st.Deadline, st.Updated = st.Received.UTC(), st.Deadline.UTC(), st.Updated.UTC()
		if st.Resolved.Unix() <= 0 {
			st.Resolved = time.Time{}
		} else {
			st.Resolved = st.Resolved.UTC()
		}
		out[st.AppealID] = &st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sla: read states from clickhouse: %w", err)
	}
	if q, err = s.latest(ctx, "appeal_sla_extra", []string{"municipality", "theme", "at_risk"}, "has(?, appeal_id)", ""); err != nil {
		return fmt.Errorf("sla: read state extras from clickhouse: %w", err)
	}
	rows, err = s.query(ctx, q, ids)
	if err != nil {
		return fmt.Errorf("sla: read state extras from clickhouse: %w", err)
	}
	for rows.Next() {
		var id, mun, theme string
		var atRisk uint8
		var version uint64
		if err := rows.Scan(&id, &mun, &theme, &atRisk, &version); err != nil {
			rows.Close()
			return fmt.Errorf("sla: read state extras from clickhouse: %w", err)
		}
		if st := out[id]; st != nil {
			st.Municipality, st.Theme, st.AtRisk = mun, theme, atRisk == 1 && version == st.Version
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sla: read state extras from clickhouse: %w", err)
	}
	if q, err = s.eventsQuery(ctx); err != nil {
		return fmt.Errorf("sla: read applied event ids: %w", err)
	}
	rows, err = s.query(ctx, q, ids)
	if err != nil {
		return fmt.Errorf("sla: read applied event ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, ev string
		var first time.Time
		var version uint64
		if err := rows.Scan(&id, &ev, &first, &version); err != nil {
			return fmt.Errorf("sla: read applied event ids: %w", err)
		}
		if st := out[id]; st != nil {
			st.Seen = append(st.Seen, ev)
		}
	}
	return rows.Err()
}

// applied is one event that changed an appeal, with the state right after it.
type applied struct {
	ev    model.StatusEvent
	state State
}

// record writes the history rows and the new state versions to ClickHouse. Re-recording the same
// events (a replay after a crash) yields identical rows that ReplacingMergeTree collapses.
func (s *store) record(ctx context.Context, evs []applied, states []State) error {
	if len(evs) == 0 {
		return nil
	}
	b, err := s.ch.PrepareBatch(ctx, `INSERT INTO appeal_events (event_id, appeal_id, region, oktmo, category,
		source, event_type, status, agency, actor, actor_role, comment, attachments, deadline, event_time, version)`)
	if err != nil {
		return fmt.Errorf("sla: record events: %w", err)
	}
	for _, a := range evs {
		st, ev := a.state, a.ev
		agency := ev.Agency
		if agency == "" {
			agency = st.Agency
		}
		att := ev.Attachments
		if att == nil {
			att = []string{}
		}
		if err := b.Append(ev.EventID, st.AppealID, st.Region, st.OKTMO, st.Category, st.Source, ev.Type,
			st.Status, agency, ev.Actor, ev.ActorRole, ev.Comment, att, st.Deadline, sec(ev.EventTime), st.Version); err != nil {
			b.Abort()
			return fmt.Errorf("sla: record events: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("sla: record events: %w", err)
	}
	b, err = s.ch.PrepareBatch(ctx, `INSERT INTO appeal_sla (appeal_id, region, oktmo, category, source, agency,
		status, received_time, deadline, resolved_time, breached, updated_time, version)`)
	if err != nil {
		return fmt.Errorf("sla: record states: %w", err)
	}
	for _, st := range states {
		var breached uint8
		if st.Breached {
			breached = 1
		}
		resolved := st.Resolved
		if resolved.IsZero() {
			resolved = time.Unix(0, 0)
		}
		if err := b.Append(st.AppealID, st.Region, st.OKTMO, st.Category, st.Source, st.Agency, st.Status,
			st.Received, st.Deadline, resolved, breached, st.Updated, st.Version); err != nil {
			b.Abort()
			return fmt.Errorf("sla: record states: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("sla: record states: %w", err)
	}
	b, err = s.ch.PrepareBatch(ctx, `INSERT INTO appeal_sla_extra (appeal_id, municipality, theme, at_risk, version)`)
	if err != nil {
		return fmt.Errorf("sla: record state extras: %w", err)
	}
	for _, st := range states {
		var atRisk uint8
		if st.AtRisk {
			atRisk = 1
		}
		if err := b.Append(st.AppealID, st.Municipality, st.Theme, atRisk, st.Version); err != nil {
			b.Abort()
			return fmt.Errorf("sla: record state extras: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("sla: record state extras: %w", err)
	}
	return nil
}

// cache queues the state's write to Redis on p. Resolved appeals expire (a reopen reloads them from
// ClickHouse); open ones stay, since the timers and the API read them all the time.
func (s *store) cache(ctx context.Context, p redis.Pipeliner, st State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("sla: encode state: %w", err)
	}
	ttl := time.Duration(0)
	if !st.Open() {
		ttl = s.resolvedTTL
	}
	p.Set(ctx, s.key(st.AppealID), b, ttl)
	return nil
}
