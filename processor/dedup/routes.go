package dedup

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/redisx"
)

// Routes keeps, for --dedup-state partition, which scope each appeal id was first re-keyed by
// (docs/deduplication.md, "Partition-local state"). The first stage keys appeals.enriched by scope, and
// the id claims live with the scope's partition; a retry whose content changed so far that it resolves
// to another municipality would land on another partition, meet no claim there and be stored a second
// time. The scope is claimed in Redis for the id horizon, and the retry follows its original to that
// partition, where its id claim makes it an exact duplicate (the first version wins, as with the other
// modes). One pipelined round trip per batch of the first stage; only this is shared through Redis, under
// "<prefix>rekey:route:<appeal id>", apart from the dedup state's keys.
//
// A marker says the routes are whole. Redis may lose them (restarted without its data), and a database
// switched to this mode has appeals stored before any route was claimed. Ensure, before a generation's
// partitions start, writes every stored appeal's scope from ClickHouse (rows of the id horizon) when the
// marker is missing; Route reads the marker after its claims and reports ErrRoutesLost without it, so
// that the batch is read again after the next Ensure instead of going where an emptied Redis sent it.
type Routes struct {
	mu    sync.Mutex // one rebuild at a time in this process
	rdb   redis.UniversalClient
	ch    driver.Conn
	cfg   RoutesConfig
	guard *redisx.Guard
}

// RoutesConfig configures Routes. The processor passes the dedup state's key prefix, id horizon and
// durability.
type RoutesConfig struct {
	// KeyPrefix of every key (Config.KeyPrefix).
	KeyPrefix string
	// TTL: how long an id keeps its route (Config.IDHorizon); required.
	TTL time.Duration
	// Durability: what a batch's claims check before the batch is produced, as the dedup batches do
	// (--redis-wait-replicas). Without it a failover may lose the last claims, and a moved copy of one of
	// those appeals would go to its own scope's partition and be stored twice.
	Durability redisx.Durability
	// Now is the clock of the stored rows' ages (nil: time.Now).
	Now func() time.Time
}

// Validate checks the settings.
func (c RoutesConfig) Validate() error {
	if c.TTL <= 0 {
		return fmt.Errorf("dedup: routes need a positive id horizon, not %s", c.TTL)
	}
	return c.Durability.Validate()
}

// NewRoutes returns the routes in rdb, rebuilt from ch's appeals when Redis lost them.
func NewRoutes(rdb redis.UniversalClient, ch driver.Conn, cfg RoutesConfig) (*Routes, error) {
	if rdb == nil || ch == nil {
		return nil, errors.New("dedup: routes need Redis and ClickHouse")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Routes{rdb: rdb, ch: ch, cfg: cfg, guard: redisx.NewGuard(rdb, cfg.KeyPrefix+"rekey:durable", cfg.Durability)}, nil
}

func (r *Routes) key(id string) string { return r.cfg.KeyPrefix + "rekey:route:" + id }
func (r *Routes) marker() string       { return r.cfg.KeyPrefix + "rekey:routes" }

// ErrRoutesLost: the routes' marker was missing after a batch's claims (Redis lost its data); the
// claims may have sent a stored appeal's copy astray, so the batch must wait for Ensure.
var ErrRoutesLost = errors.New("dedup: the first stage's routes are not whole (Redis lost them)")

// Route claims scopes[i] for ids[i] unless the id has a scope already, and returns each appeal's scope:
// the first one claimed for its id. An id twice in one call takes the first one's scope. With
// Durability it fails with redisx.ErrNotDurable (wrapped) unless the claims are on the master it began
// on and on the replicas asked for: the batch is then read again, and its claims made again answer the
// same where they survived.
func (r *Routes) Route(ctx context.Context, ids, scopes []string) ([]string, error) {
	if len(ids) != len(scopes) {
		return nil, fmt.Errorf("dedup: route %d ids with %d scopes", len(ids), len(scopes))
	}
	began, err := r.guard.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("dedup: claim routes: %w", err)
	}
	out, whole, err := r.claim(ctx, ids, scopes)
	switch {
	case err != nil:
		return nil, err
	case !whole:
		return nil, ErrRoutesLost
	}
	if err := r.guard.Confirm(ctx, began); err != nil {
		return nil, fmt.Errorf("dedup: claim routes: %w", err)
	}
	return out, nil
}

// Ensure makes the routes whole: if the marker is missing, it writes every stored appeal's scope (the
// first stored where an id has several, overwriting what a claim on an emptied Redis may have put
// there), then the marker. Instances that rebuild at once write the same values.
func (r *Routes) Ensure(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.rdb.Exists(ctx, r.marker()).Result()
	if err != nil {
		return fmt.Errorf("dedup: read the routes' marker: %w", err)
	}
	if n == 1 {
		return nil
	}
	return r.rebuild(ctx)
}

// claim claims the routes and reads the marker after them.
func (r *Routes) claim(ctx context.Context, ids, scopes []string) ([]string, bool, error) {
	// SET NX GET (Redis 7): one command claims and answers, so two instances racing for an id agree.
	cmds := make([]*redis.StatusCmd, len(ids))
	var mark *redis.IntCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.SetArgs(ctx, r.key(id), scopes[i], redis.SetArgs{Mode: "NX", Get: true, TTL: r.cfg.TTL})
		}
		mark = p.Exists(ctx, r.marker())
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, false, fmt.Errorf("dedup: claim routes: %w", err)
	}
	out := make([]string, len(ids))
	for i, c := range cmds {
		switch old, err := c.Result(); {
		case errors.Is(err, redis.Nil):
			out[i] = scopes[i] // claimed now
		case err != nil:
			return nil, false, fmt.Errorf("dedup: claim routes: %w", err)
		default:
			out[i] = old
		}
	}
	return out, mark.Val() == 1, nil
}

// routesQuery reads the scope of every appeal stored within the horizon, the latest first: written in
// that order, each id ends with the scope it was first stored with.
const routesQuery = `SELECT appeal_id, region, oktmo, processed_time FROM appeals WHERE processed_time >= ?
ORDER BY processed_time DESC`

// rebuild writes every stored appeal's scope, for what is left of its horizon, then the marker.
func (r *Routes) rebuild(ctx context.Context) error {
	now := r.cfg.Now()
	rows, err := r.ch.Query(ctx, routesQuery, now.Add(-r.cfg.TTL).UTC())
	if err != nil {
		return fmt.Errorf("dedup: rebuild routes: %w", err)
	}
	defer rows.Close()
	p := r.rdb.Pipeline()
	n := 0
	for rows.Next() {
		var id, region, oktmo string
		var stored time.Time
		if err := rows.Scan(&id, &region, &oktmo, &stored); err != nil {
			return fmt.Errorf("dedup: rebuild routes: %w", err)
		}
		left := r.cfg.TTL - now.Sub(stored)
		if left <= 0 {
			continue
		}
		p.Set(ctx, r.key(id), model.Scope(region, oktmo), left)
		if n++; n%rebuildChunk == 0 {
			if _, err := p.Exec(ctx); err != nil {
				return fmt.Errorf("dedup: rebuild routes: %w", err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dedup: rebuild routes: %w", err)
	}
	p.Set(ctx, r.marker(), "whole", 0)
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("dedup: rebuild routes: %w", err)
	}
	return nil
}
