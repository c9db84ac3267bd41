package sink

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/teplokarta/teplokarta/internal/chstore"
)

// On the cluster schema (docs/cluster.md) the reads that the exactness argument rests on — a partition's
// progress, which rows of a failed INSERT landed, whether that INSERT still runs — must not be answered
// by one replica that lags its shard: a part committed on the replica that died a moment later would look
// missing and be stored again. They read the union of every replica's local table instead (remote() over
// all hosts of the cluster), which fails while a replica is down: the sink then waits, as for an
// unreachable server, and resolves the INSERT once every replica answers. INSERTs themselves go to the
// Distributed table, synchronously, on whichever replica the client reaches.

// topology discovers (once) whether the database holds the cluster schema.
func (s *ClickHouse) topology(ctx context.Context) (chstore.Topology, error) {
	t, err := s.topo.Get(ctx, s.conn)
	if err != nil {
		return t, fmt.Errorf("sink: %w", err)
	}
	return t, nil
}

// source is where the exact reads of table go: the table itself on a single server, the union of every
// replica's local table on a cluster.
func (s *ClickHouse) source(ctx context.Context, table string) (string, error) {
	t, err := s.topology(ctx)
	if err != nil {
		return "", err
	}
	if !t.Clustered() {
		return table, nil
	}
	return t.Remote(t.Database, table+chstore.LocalSuffix), nil
}

// processes is system.processes of this server, or of every replica on a cluster (an INSERT through the
// Distributed table runs on the replica the client reached, and remote parts of it carry its id as
// initial_query_id).
func (s *ClickHouse) processes(ctx context.Context) (string, error) {
	t, err := s.topology(ctx)
	if err != nil {
		return "", err
	}
	if !t.Clustered() {
		return "system.processes", nil
	}
	return t.Remote("system", "processes"), nil
}

// insertContext makes a Distributed INSERT synchronous on a cluster: confirmed means stored on its shard.
func (s *ClickHouse) insertContext(ctx context.Context, opts ...clickhouse.QueryOption) (context.Context, error) {
	t, err := s.topology(ctx)
	if err != nil {
		return nil, err
	}
	if t.Clustered() {
		opts = append(opts, clickhouse.WithSettings(clickhouse.Settings{"insert_distributed_sync": 1}))
	}
	return clickhouse.Context(ctx, opts...), nil
}
