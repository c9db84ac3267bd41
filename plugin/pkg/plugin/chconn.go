package plugin

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
)

// replicaDelayConn is the datasource's ClickHouse connection: its queries carry the setting that keeps
// Distributed reads off a lagging replica (Settings.MaxReplicaDelaySeconds). A user whose profile is
// readonly=1 may not change settings; ClickHouse 18.16 ignores the setting then, later servers refuse the
// query (READONLY). On the first refusal the connection logs why and sends every query from then on,
// this one included, through a second connection without the setting, so a read-only Grafana user
// keeps working with the server's own replica delay.
type replicaDelayConn struct {
	driver.Conn             // with the setting
	plain       driver.Conn // without it
	refused     atomic.Bool // the server refused the setting once: plain from now on
	log         log.Logger
}

// errReadonly is ClickHouse's READONLY: the user may not change settings.
const errReadonly = 164

func isReadonly(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == errReadonly
}

func (c *replicaDelayConn) refuse(err error) {
	if !c.refused.Swap(true) {
		c.log.Warn("ClickHouse refuses this user's max_replica_delay_for_distributed_queries (a readonly=1 profile): "+
			"reading without it; give the user readonly=2, or set maxReplicaDelaySeconds to -1", "err", err)
	}
}

func (c *replicaDelayConn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	if !c.refused.Load() {
		rows, err := c.Conn.Query(ctx, query, args...)
		if !isReadonly(err) {
			return rows, err
		}
		c.refuse(err)
	}
	return c.plain.Query(ctx, query, args...)
}

func (c *replicaDelayConn) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	if !c.refused.Load() {
		row := c.Conn.QueryRow(ctx, query, args...)
		if err := row.Err(); !isReadonly(err) {
			return row
		}
		c.refuse(row.Err())
	}
	return c.plain.QueryRow(ctx, query, args...)
}

func (c *replicaDelayConn) Close() error {
	return errors.Join(c.Conn.Close(), c.plain.Close())
}
