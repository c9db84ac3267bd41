package redisx

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Durability says what a component checks before it treats its Redis writes as stored. Redis replicates
// asynchronously: a master acknowledges a write before any replica has it, and a failover may promote a
// replica that lacks it. docs/redis.md explains the choice.
type Durability struct {
	// Replicas: after its writes, a unit of work (a dedup batch, an SLA batch) sends WAIT and fails unless
	// this many replicas acknowledged everything the master had by then. 0: no WAIT (the default).
	Replicas int
	// Timeout of WAIT. Default 1 s.
	Timeout time.Duration
	// WatchMaster fails a unit of work whose writes may have gone to a master that is no longer the
	// master (a failover or a restart in between: the server's run_id changed). On by default with
	// Sentinel; implied by Replicas > 0, since WAIT on a new master says nothing of writes to the old one.
	WatchMaster bool
}

// DefaultWaitTimeout is WAIT's timeout when Durability.Timeout is zero.
const DefaultWaitTimeout = time.Second

// Enabled tells whether a Guard does any I/O.
func (d Durability) Enabled() bool { return d.Replicas > 0 || d.WatchMaster }

// Validate checks the settings.
func (d Durability) Validate() error {
	var errs []error
	if d.Replicas < 0 {
		errs = append(errs, errors.New("redis: wait replicas must not be negative"))
	}
	if d.Timeout < 0 || d.Timeout > time.Minute {
		errs = append(errs, fmt.Errorf("redis: wait timeout %s must be within [0, 1m]", d.Timeout))
	}
	return errors.Join(errs...)
}

// ErrNotDurable: the writes of a unit of work may not survive a failover (too few replicas acknowledged
// them, or the master changed while they were made). The unit must be redone, as after a crash.
var ErrNotDurable = errors.New("redis: writes not confirmed durable")

// Guard confirms units of work. Begin before the first write, Confirm after the last one.
type Guard struct {
	rdb   redis.UniversalClient
	key   string
	d     Durability
	runID atomic.Value // string: the master's run_id as last seen
}

// NewGuard returns a guard whose WAIT follows a write (INCR) of key: WAIT waits for the offset of its own
// connection's last write, and the INCR makes that offset cover every write made before it, on any
// connection.
func NewGuard(rdb redis.UniversalClient, key string, d Durability) *Guard {
	if d.Timeout == 0 {
		d.Timeout = DefaultWaitTimeout
	}
	if d.Replicas > 0 {
		d.WatchMaster = true
	}
	return &Guard{rdb: rdb, key: key, d: d}
}

// Token identifies the master a unit of work began on.
type Token string

// Begin returns the master this unit of work starts on: the run_id the guard last saw, read from Redis
// only the first time. A stale id (the master changed since) makes Confirm fail, and the redo passes.
func (g *Guard) Begin(ctx context.Context) (Token, error) {
	if g == nil || !g.d.Enabled() {
		return "", nil
	}
	if id, _ := g.runID.Load().(string); id != "" {
		return Token(id), nil
	}
	info, err := g.rdb.Info(ctx, "server").Result()
	if err != nil {
		return "", fmt.Errorf("redis: read run_id: %w", err)
	}
	id := runID(info)
	if id == "" {
		return "", errors.New("redis: INFO server has no run_id")
	}
	g.runID.Store(id)
	return Token(id), nil
}

// Confirm checks that the writes made since Begin are on the master Begin saw and, with Replicas, on
// that many replicas. It returns ErrNotDurable (wrapped) otherwise.
func (g *Guard) Confirm(ctx context.Context, began Token) error {
	if g == nil || !g.d.Enabled() {
		return nil
	}
	var wait *redis.Cmd
	var info *redis.StringCmd
	_, err := g.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if g.d.Replicas > 0 {
			p.Incr(ctx, g.key)
			// Pipeliner lacks Wait; Do sends the same command.
			wait = p.Do(ctx, "wait", g.d.Replicas, g.d.Timeout.Milliseconds())
		}
		info = p.Info(ctx, "server")
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: confirm writes: %w", err)
	}
	id := runID(info.Val())
	if id == "" {
		return errors.New("redis: INFO server has no run_id")
	}
	g.runID.Store(id)
	if Token(id) != began {
		return fmt.Errorf("%w: the master changed (run_id %.8s… → %.8s…)", ErrNotDurable, began, id)
	}
	if wait != nil {
		n, err := wait.Int64()
		if err != nil {
			return fmt.Errorf("redis: WAIT: %w", err)
		}
		if n < int64(g.d.Replicas) {
			return fmt.Errorf("%w: %d of %d replicas acknowledged within %s", ErrNotDurable, n, g.d.Replicas, g.d.Timeout)
		}
	}
	return nil
}

func runID(info string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(line, "run_id:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
