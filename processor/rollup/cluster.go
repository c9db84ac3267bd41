package rollup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/chstore"
)

// On the cluster schema (docs/cluster.md) Verify reads through the Distributed tables, i.e. one replica of
// each shard, and Repair swaps partitions of the replicated local tables. Both need the replicas of a
// shard to hold the same parts first: a replica that has not fetched an appeals part yet would make a
// rollup look wrong, and a rebuild there would drop the rows it has not seen. With the gate closed no
// INSERT runs, so waiting until every replica's replication queue is empty makes them equal.

// ErrShardedRepair: a cluster of several shards holds each shard's rollup rows on that shard, derived from
// that shard's appeals, so a repair must run on every shard's own server; without a Dialer to reach them
// it refuses.
var ErrShardedRepair = errors.New("rollup: repair on a cluster of several shards needs a connection to each shard (a Dialer)")

// Dialer opens a connection to one server of the cluster (host:port of the native protocol, as
// system.clusters names it) with the caller's credentials and database. The caller closes it.
type Dialer func(ctx context.Context, addr string) (driver.Conn, error)

// syncTimeout bounds the wait for the replicas to catch up; the check fails after it and runs again later.
const syncTimeout = 2 * time.Minute

// waitReplicasSynced waits until every replica of every Replicated table of the database has read the
// whole replication log and emptied its queue. It fails while a replica does not answer.
func waitReplicasSynced(ctx context.Context, conn driver.Conn, t chstore.Topology) error {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	// log_pointer is the next log entry a replica will read; log_max_index the last entry written (0 for
	// an empty log, where log_pointer is 0 too).
	q := `SELECT count(), countIf(queue_size > 0 OR (log_pointer <= log_max_index AND NOT (log_pointer = 0 AND log_max_index = 0)))
		FROM ` + t.Remote("system", "replicas") + ` WHERE database = ?`
	for {
		var n, lagging uint64
		if err := conn.QueryRow(ctx, q, t.Database).Scan(&n, &lagging); err != nil {
			return fmt.Errorf("rollup: replicas of %s: %w", t.Cluster, err)
		}
		if lagging == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("rollup: %d of %d replicated tables still catching up on cluster %s: %w", lagging, n, t.Cluster, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// target is the table a partition swap goes to and how to create its staging table: the rollup itself on
// a single server; on a cluster its replicated local table, with a staging table replicated under its own
// ZooKeeper path (REPLACE PARTITION needs the same structure; the staging table lives on this shard only).
func target(ctx context.Context, conn driver.Conn, topo chstore.Topology, t Table) (name, createStaging string, err error) {
	staging := t.Name + "__repair"
	if !topo.Clustered() {
		return t.Name, fmt.Sprintf("CREATE TABLE %s AS %s", staging, t.Name), nil
	}
	local := t.Name + chstore.LocalSuffix
	var engine string
	if err := conn.QueryRow(ctx, `SELECT any(engine_full) FROM system.tables WHERE database = currentDatabase() AND name = ?`, local).Scan(&engine); err != nil {
		return "", "", fmt.Errorf("rollup: engine of %s: %w", local, err)
	}
	path := "/" + local + "'"
	if !strings.Contains(engine, path) {
		return "", "", fmt.Errorf("rollup: %s is not replicated under .../%s: %s", local, local, engine)
	}
	return local, fmt.Sprintf("CREATE TABLE %s AS %s ENGINE = %s", staging, local, strings.Replace(engine, path, "/"+staging+"'", 1)), nil
}

// dialShards connects to one server of every shard, trying each shard's replicas in order; it fails if a
// shard has none that answers (the repair runs again at the next check). The caller closes the connections.
func dialShards(ctx context.Context, topo chstore.Topology, dial Dialer) ([]driver.Conn, error) {
	if dial == nil {
		return nil, ErrShardedRepair
	}
	conns := make([]driver.Conn, 0, len(topo.ShardReplicas))
	for i, replicas := range topo.ShardReplicas {
		var errs []error
		for _, addr := range replicas {
			c, err := dial(ctx, addr)
			if err == nil {
				conns = append(conns, c)
				break
			}
			errs = append(errs, fmt.Errorf("%s: %w", addr, err))
		}
		if len(conns) == i {
			closeAll(conns)
			return nil, fmt.Errorf("rollup: repair: no server of shard %d answers: %w", i+1, errors.Join(errs...))
		}
	}
	return conns, nil
}

func closeAll(conns []driver.Conn) {
	for _, c := range conns {
		c.Close()
	}
}
