package rollup

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/chstore"
)

// Repair rebuilds what Verify found different: each differing rollup partition is built anew from appeals
// in a staging table and swapped in whole with ALTER TABLE … REPLACE PARTITION (atomic for readers, and a
// repeat of the same repair gives the same partition: no double counting); each lagging progress record
// gets the row its view should have written. The caller holds the Gate closed: rows inserted while a
// partition is rebuilt would be lost by the swap. On a cluster of several shards it refuses
// (ErrShardedRepair): use RepairWith and a Dialer.
func Repair(ctx context.Context, conn driver.Conn, rep Report) error {
	return RepairWith(ctx, conn, nil, rep)
}

// RepairWith is Repair that can reach every shard of a sharded cluster through dial: each shard's views
// roll up that shard's appeals, so a differing partition is rebuilt on every shard from the shard's own
// appeals_local (a shard whose part was right gets the same rows again). A single server or a cluster of
// one shard needs no dial.
func RepairWith(ctx context.Context, conn driver.Conn, dial Dialer, rep Report) error {
	var topo chstore.Topology
	if len(rep.Diffs) > 0 {
		var err error
		if topo, err = chstore.Discover(ctx, conn); err != nil {
			return fmt.Errorf("rollup: repair: %w", err)
		}
	}
	// Where each partition is rebuilt, and from which appeals: the connection's own server, or one server
	// of every shard from that shard's rows alone.
	on, appeals := []driver.Conn{conn}, "appeals"
	if topo.Shards > 1 {
		shards, err := dialShards(ctx, topo, dial)
		if err != nil {
			return err
		}
		defer closeAll(shards)
		on, appeals = shards, "appeals"+chstore.LocalSuffix
	}
	for _, d := range rep.Diffs {
		t, ok := TableByName(d.Table)
		if !ok {
			return fmt.Errorf("rollup: unknown table %s", d.Table)
		}
		for i, c := range on {
			if err := rebuildPartition(ctx, c, topo, t, d.Partition, appeals); err != nil {
				if len(on) > 1 {
					return fmt.Errorf("rollup: repair on shard %d: %w", i+1, err)
				}
				return err
			}
		}
	}
	if len(rep.Progress) == 0 {
		return nil
	}
	b, err := conn.PrepareBatch(ctx, `INSERT INTO appeal_progress (kafka_topic, kafka_partition, max_offset, max_event_time)`)
	if err != nil {
		return fmt.Errorf("rollup: repair progress: %w", err)
	}
	for _, p := range rep.Progress {
		if err := b.Append(p.Topic, p.Partition, p.Stored, p.MaxEventTime); err != nil {
			_ = b.Abort()
			return fmt.Errorf("rollup: repair progress: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("rollup: repair progress: %w", err)
	}
	return nil
}

// rebuildPartition replaces one partition of a rollup with the rows the appeals table derives for it.
func rebuildPartition(ctx context.Context, conn driver.Conn, topo chstore.Topology, t Table, p uint32, appeals string) error {
	staging := t.Name + "__repair"
	into, createStaging, err := target(ctx, conn, topo, t)
	if err != nil {
		return err
	}
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"drop old staging", "DROP TABLE IF EXISTS " + staging, nil},
		{"create staging", createStaging, nil},
		{"fill staging", fmt.Sprintf("INSERT INTO %s (window_start, %s, incidents, voices, late) %s", staging, t.keyList(),
			t.derivedSQLFrom(appeals, fmt.Sprintf("toUInt32(%s(%s)) = %d", t.Part, t.Window, p))),
			[]any{slackBefore(t.PartitionStart(p)), t.eventsUntil(t.PartitionEnd(p))}},
		{"swap in", fmt.Sprintf("ALTER TABLE %s REPLACE PARTITION %d FROM %s", into, p, staging), nil},
		{"drop staging", "DROP TABLE " + staging, nil},
	}
	for _, s := range steps {
		if err := conn.Exec(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("rollup: rebuild %s partition %d: %s: %w", t.Name, p, s.what, err)
		}
	}
	return nil
}
