package dedup

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/redisx"
)

// EnsureState makes sure the dedup state in Redis is complete before a processor decides anything. A
// marker key records that the state is whole; when it is missing (a new deployment, or Redis restarted
// without its data) one instance rebuilds it under a lock while the others wait for the marker. The
// rebuild first removes every dedup key: batches decided on the lost state wrote claims before their
// StateIntact check failed, and a claim kept from them would make a client retry's replay "its own
// original" (the appeal stored twice) or keep a decision made without the incidents the wipe took. It
// reports whether this instance rebuilt and how many rows it applied.
func (d *Redis) EnsureState(ctx context.Context, conn driver.Conn, now time.Time) (bool, int, error) {
	owner := fmt.Sprintf("%d", rand.Uint64())
	for {
		v, err := d.rdb.Get(ctx, d.marker()).Result()
		switch {
		case err == nil:
			d.token.Store(v)
			return false, 0, nil
		case !errors.Is(err, redis.Nil):
			return false, 0, fmt.Errorf("dedup: read state marker: %w", err)
		}
		locked, err := d.rdb.SetNX(ctx, d.rebuildLock(), owner, rebuildLockTTL).Result()
		if err != nil {
			return false, 0, fmt.Errorf("dedup: take the rebuild lock: %w", err)
		}
		if locked {
			n, err := d.rebuildLocked(ctx, conn, now, owner)
			return true, n, err
		}
		select { // another instance rebuilds: adopt its state once the marker is back
		case <-ctx.Done():
			return false, 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// rebuildLockTTL bounds how long a crashed rebuilder holds the lock; a live one renews it.
const rebuildLockTTL = time.Minute

// rebuildLocked clears the dedup keys, rebuilds them from ClickHouse and sets a new marker, all while
// holding the rebuild lock, which it renews; losing the lock (a pause longer than its TTL) fails the
// rebuild rather than marking a state whole that another rebuilder may be clearing.
func (d *Redis) rebuildLocked(ctx context.Context, conn driver.Conn, now time.Time, owner string) (int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := redisx.KeepAlive(rebuildLockTTL/3, func(rctx context.Context) (bool, error) {
		ok, err := renewScript.Run(rctx, d.rdb, []string{d.rebuildLock()}, owner, rebuildLockTTL.Milliseconds()).Int()
		return ok == 1, err
	}, func() { cancel(errors.New("dedup: lost the rebuild lock")) })
	defer stop()
	release := func() {
		_ = releaseScript.Run(context.WithoutCancel(ctx), d.rdb, []string{d.rebuildLock()}, owner).Err()
	}
	cleared, err := d.clearState(ctx)
	if err != nil {
		release()
		return 0, errors.Join(err, context.Cause(ctx))
	}
	n, err := d.Rebuild(ctx, conn, now.Add(-d.cfg.IDHorizon))
	if err != nil {
		release()
		return n, errors.Join(err, context.Cause(ctx))
	}
	// A new value each rebuild: an instance that saw the state whole under the old value learns that it was
	// lost and rebuilt meanwhile (StateIntact), even if the marker is back.
	token := fmt.Sprintf("%s/%d", now.UTC().Format(time.RFC3339), rand.Uint64())
	ok, err := finishScript.Run(ctx, d.rdb, []string{d.rebuildLock(), d.marker()}, owner, token).Int()
	if err != nil {
		release()
		return n, fmt.Errorf("dedup: write state marker: %w", errors.Join(err, context.Cause(ctx)))
	}
	if ok == 0 {
		return n, errors.New("dedup: lost the rebuild lock before the state was marked whole")
	}
	d.token.Store(token)
	d.log.Info("dedup: state cleared and rebuilt", "keys_cleared", cleared, "rows", n)
	return n, nil
}

// The marker and the rebuild lock share a hash tag: finishScript sets one only while holding the other.
func (d *Redis) marker() string      { return d.cfg.KeyPrefix + "dedup:{state}" }
func (d *Redis) rebuildLock() string { return d.cfg.KeyPrefix + "dedup:{state}:rebuild" }

var (
	renewScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`)
	releaseScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1]) end
return 0`)
	finishScript = redis.NewScript(`if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[1])
return 1`)
)

// clearState removes every dedup key but the rebuild lock, on every master of a cluster. It runs only
// before a rebuild, when the state is already lost: what it finds is what was written since.
func (d *Redis) clearState(ctx context.Context) (int, error) {
	pattern := globEscape(d.cfg.KeyPrefix+"dedup:") + "*"
	lock := d.rebuildLock()
	var total atomic.Int64
	// One UNLINK per key, pipelined: a cluster refuses a multi-key UNLINK over several slots, even on one node.
	clear := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		var keys []string
		flush := func() error {
			if len(keys) == 0 {
				return nil
			}
			_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys {
					p.Unlink(ctx, k)
				}
				return nil
			})
			total.Add(int64(len(keys)))
			keys = keys[:0]
			return err
		}
		for iter.Next(ctx) {
			if k := iter.Val(); k != lock {
				keys = append(keys, k)
			}
			if len(keys) == 1000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return err
		}
		return flush()
	}
	var err error
	switch c := d.rdb.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, clear)
	case *redis.Client:
		err = clear(ctx, c)
	default:
		err = fmt.Errorf("unsupported client %T", d.rdb)
	}
	if err != nil {
		return int(total.Load()), fmt.Errorf("dedup: clear the lost state: %w", err)
	}
	return int(total.Load()), nil
}

// globEscape quotes the characters SCAN's MATCH treats as a pattern, so a prefix matches only itself.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

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
