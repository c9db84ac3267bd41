package dedup

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"
)

// EnsureState makes sure the dedup state in Redis is complete before a processor decides anything. A
// marker key records that the state is whole; when it is missing (a new deployment, or Redis restarted
// without its data) the claims are rebuilt from ClickHouse first. Rebuilding is idempotent, so several
// instances starting together may all run it. It reports whether a rebuild ran and how many rows it applied.
func (d *Redis) EnsureState(ctx context.Context, conn driver.Conn, now time.Time) (bool, int, error) {
	marker := d.marker()
	v, err := d.rdb.Get(ctx, marker).Result()
	switch {
	case err == nil:
		d.token.Store(v)
		return false, 0, nil
	case !errors.Is(err, redis.Nil):
		return false, 0, fmt.Errorf("dedup: read state marker: %w", err)
	}
	n, err := d.Rebuild(ctx, conn, now.Add(-d.cfg.IDHorizon))
	if err != nil {
		return true, n, err
	}
	// A new value each rebuild: an instance that saw the state whole under the old value learns that it was
	// lost and rebuilt meanwhile (StateIntact), even if the marker is back.
	token := fmt.Sprintf("%s/%d", now.UTC().Format(time.RFC3339), rand.Uint64())
	if err := d.rdb.Set(ctx, marker, token, 0).Err(); err != nil {
		return true, n, fmt.Errorf("dedup: write state marker: %w", err)
	}
	d.token.Store(token)
	return true, n, nil
}

func (d *Redis) marker() string { return d.cfg.KeyPrefix + "dedup:state" }

// ErrStateLost: Redis lost the dedup state (restarted without its data) since this instance last saw it
// whole; decisions made meanwhile may be wrong and must not be stored. The processor drops the batch,
// rejoins its group (every member finishes its in-flight batches) and rebuilds the state before deciding
// again.
var ErrStateLost = errors.New("dedup: Redis lost the dedup state")

// StateIntact checks, after a batch's decisions, that the state they were made on was whole all along:
// the marker still holds the value this instance saw (a wipe removes it; a rebuild by another instance
// replaces it). Instances that never ran EnsureState (tests of the stage alone) skip the check.
func (d *Redis) StateIntact(ctx context.Context) error {
	want, _ := d.token.Load().(string)
	if want == "" {
		return nil
	}
	v, err := d.rdb.Get(ctx, d.marker()).Result()
	if errors.Is(err, redis.Nil) || err == nil && v != want {
		d.log.Warn("dedup state lost or rebuilt since this instance saw it; the batch will be decided again")
		return ErrStateLost
	}
	if err != nil {
		return fmt.Errorf("dedup: read state marker: %w", err)
	}
	return nil
}
