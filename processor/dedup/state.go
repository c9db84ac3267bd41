package dedup

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"
)

// EnsureState makes sure the dedup state in Redis is complete before a processor decides anything. A
// marker key records that the state is whole; when it is missing (a new deployment, or Redis restarted
// without its data) the claims are rebuilt from ClickHouse first. Rebuilding is idempotent, so several
// instances starting together may all run it. It reports whether a rebuild ran and how many rows it applied.
func (d *Redis) EnsureState(ctx context.Context, conn driver.Conn, now time.Time) (bool, int, error) {
	marker := d.cfg.KeyPrefix + "dedup:state"
	err := d.rdb.Get(ctx, marker).Err()
	switch {
	case err == nil:
		return false, 0, nil
	case !errors.Is(err, redis.Nil):
		return false, 0, fmt.Errorf("dedup: read state marker: %w", err)
	}
	n, err := d.Rebuild(ctx, conn, now.Add(-d.cfg.IDHorizon))
	if err != nil {
		return true, n, err
	}
	if err := d.rdb.Set(ctx, marker, now.UTC().Format(time.RFC3339), 0).Err(); err != nil {
		return true, n, fmt.Errorf("dedup: write state marker: %w", err)
	}
	return true, n, nil
}
