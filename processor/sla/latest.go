package sla

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/chstore"
)

// The engine reads its own state back from ClickHouse when Redis does not have it (a Redis loss, a
// resolved appeal's expired cache entry, the timers rebuilt at start) and lists open appeals for the API.
// On a single server those reads take the latest version of each appeal with FINAL. On the cluster
// schema (docs/cluster.md) a read through the Distributed table asks one replica of each shard, and a
// replica may lag the one that took the last INSERT (a replica restarted and still fetching its queue:
// minutes): the engine would then build the next version on an old one, apply an event twice or forget a
// timer. So on a cluster they read the union of every replica's local table (remote() over all hosts)
// and take each appeal's latest version by argMax, which a union can do and FINAL cannot.
//
// Unlike the processor's exact reads, these skip a replica that does not answer
// (skip_unavailable_shards): the engine reads ClickHouse for every new appeal (a Redis miss), so failing
// while one replica is down would stop the SLA for as long as the outage. What a dead replica alone holds
// (an INSERT it confirmed and died before its peers fetched, a window of milliseconds) is invisible until
// it returns, and matters only if Redis lost that appeal's state in the same window.

// topology discovers (once) whether the database holds the cluster schema.
func (s *store) topology(ctx context.Context) (chstore.Topology, error) {
	t, err := s.topo.Get(ctx, s.ch)
	if err != nil {
		return t, fmt.Errorf("sla: %w", err)
	}
	return t, nil
}

// query runs a query latest or eventsQuery built: on a cluster it skips a replica that does not answer.
func (s *store) query(ctx context.Context, sql string, args ...any) (driver.Rows, error) {
	t, err := s.topology(ctx)
	if err != nil {
		return nil, err
	}
	if t.Clustered() {
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"skip_unavailable_shards": 1}))
	}
	return s.ch.Query(ctx, sql, args...)
}

// latest returns a query for the latest version of each appeal's row in table (appeal_sla or
// appeal_sla_extra): appeal_id, cols and version, in that order. rowWhere (may be empty) filters rows
// before they are collapsed and may name only columns every version of an appeal has alike (appeal_id,
// received_time); stateWhere (may be empty) filters the latest versions.
func (s *store) latest(ctx context.Context, table string, cols []string, rowWhere, stateWhere string) (string, error) {
	t, err := s.topology(ctx)
	if err != nil {
		return "", err
	}
	where := func(conds ...string) string {
		var w []string
		for _, c := range conds {
			if c != "" {
				w = append(w, "("+c+")")
			}
		}
		if len(w) == 0 {
			return ""
		}
		return " WHERE " + strings.Join(w, " AND ")
	}
	if !t.Clustered() {
		return fmt.Sprintf("SELECT appeal_id, %s, version FROM %s FINAL%s",
			strings.Join(cols, ", "), table, where(rowWhere, stateWhere)), nil
	}
	// One argMax of a tuple, not one per column: versions that tie (a replay re-records identical rows)
	// then cannot mix columns of different rows.
	outer := make([]string, len(cols))
	for i, c := range cols {
		outer[i] = fmt.Sprintf("tupleElement(latest, %d) AS %s", i+1, c)
	}
	// The inner aliases differ from the columns: ClickHouse substitutes an alias wherever its name appears,
	// and max(version) AS version would land inside argMax.
	sql := fmt.Sprintf(`SELECT appeal_id, %s, latest_version AS version FROM (
		SELECT appeal_id, argMax(tuple(%s), version) AS latest, max(version) AS latest_version FROM %s%s
		GROUP BY appeal_id)%s`, strings.Join(outer, ", "), strings.Join(cols, ", "),
		t.Remote(t.Database, table+chstore.LocalSuffix), where(rowWhere), where(stateWhere))
	return sql, nil
}

// eventsQuery returns a query for the applied event ids of the appeals in the array parameter, oldest
// first, each once: on a single server the table's not yet collapsed duplicates (a replayed batch) and on
// a cluster the union's copies of every replica would otherwise fill the state's bounded Seen list twice.
func (s *store) eventsQuery(ctx context.Context) (string, error) {
	t, err := s.topology(ctx)
	if err != nil {
		return "", err
	}
	from := "appeal_events"
	if t.Clustered() {
		from = t.Remote(t.Database, "appeal_events"+chstore.LocalSuffix)
	}
	return `SELECT appeal_id, event_id, min(event_time) AS first, min(version) AS v
		FROM ` + from + ` WHERE has(?, appeal_id) GROUP BY appeal_id, event_id ORDER BY first, v`, nil
}
