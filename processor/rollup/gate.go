package rollup

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/redisx"
)

// Gate keeps writers of appeals and repairs of the rollups apart, across processes, through Redis. A
// writer holds a lease for each INSERT round (renewed while it lasts); a repair closes the gate, waits
// until every live lease has ended, works, and opens it again. Writers that find the gate closed wait.
// A lease or a closed gate of a process that died ends by itself (Lease / Hold).
type Gate struct {
	rdb    redis.UniversalClient
	closed string // key: who holds the gate closed
	leases string // key: sorted set of writer leases, scored by expiry (ms, Redis clock)
	cfg    GateConfig
	seq    uint64
	mu     sync.Mutex
}

// GateConfig of a Gate.
type GateConfig struct {
	KeyPrefix string        // scopes the two keys; default "teplokarta:"
	Owner     string        // names this process in the keys; required
	Lease     time.Duration // a writer's lease, renewed at a third of it; default 10s
	Hold      time.Duration // the longest a closed gate outlives its closer, renewed likewise; default 30s
	Poll      time.Duration // how often waiters look again; default 50ms
}

// Validate checks the configuration.
func (c GateConfig) Validate() error {
	if c.Owner == "" {
		return errors.New("rollup gate: owner is required")
	}
	if c.Lease < time.Second || c.Hold < time.Second || c.Poll <= 0 {
		return errors.New("rollup gate: lease and hold must be ≥ 1s, poll positive")
	}
	return nil
}

// NewGate builds a gate; zero fields of cfg take their defaults.
func NewGate(rdb redis.UniversalClient, cfg GateConfig) (*Gate, error) {
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = "teplokarta:"
	}
	if cfg.Lease == 0 { // what a killed writer costs: the next repair or resume check waits this long
		cfg.Lease = 10 * time.Second
	}
	if cfg.Hold == 0 {
		cfg.Hold = 30 * time.Second
	}
	if cfg.Poll == 0 {
		cfg.Poll = 50 * time.Millisecond
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// One hash tag: a Redis Cluster keeps both keys on one slot, as the scripts need.
	base := cfg.KeyPrefix + "{rollup}:"
	return &Gate{rdb: rdb, closed: base + "gate", leases: base + "writers", cfg: cfg}, nil
}

// enter registers a lease unless the gate is closed; it returns 1 when registered.
var enterScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
return 1`)

// renewLease moves a lease's expiry, if it is still held.
var renewLease = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1])`)

// liveLeases drops ended leases and counts the others.
var liveLeases = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])`)

// openScript deletes the closed mark only if it is still ours.
var openScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// Enter waits until the gate is open and takes a writer lease; release ends it. The lease is renewed
// until release, so a long INSERT keeps repairs out however long it takes.
func (g *Gate) Enter(ctx context.Context) (release func(), err error) {
	g.mu.Lock()
	g.seq++
	member := g.cfg.Owner + "/" + strconv.FormatUint(g.seq, 10)
	g.mu.Unlock()
	leaseMS := g.cfg.Lease.Milliseconds()
	for {
		n, err := enterScript.Run(ctx, g.rdb, []string{g.closed, g.leases}, member, leaseMS).Int()
		if err != nil {
			return nil, fmt.Errorf("rollup gate: enter: %w", err)
		}
		if n == 1 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(g.cfg.Poll):
		}
	}
	stop := g.keepAlive(func(ctx context.Context) error {
		return renewLease.Run(ctx, g.rdb, []string{g.leases}, member, leaseMS).Err()
	}, g.cfg.Lease)
	return func() {
		stop()
		_ = g.rdb.ZRem(context.Background(), g.leases, member).Err()
	}, nil
}

// Close closes the gate (waiting for another closer to finish) and waits until no writer holds a lease.
// open lets writers in again.
func (g *Gate) Close(ctx context.Context) (open func(), err error) {
	g.mu.Lock()
	g.seq++
	me := g.cfg.Owner + "/close/" + strconv.FormatUint(g.seq, 10)
	g.mu.Unlock()
	for {
		ok, err := g.rdb.SetNX(ctx, g.closed, me, g.cfg.Hold).Result()
		if err != nil {
			return nil, fmt.Errorf("rollup gate: close: %w", err)
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(g.cfg.Poll):
		}
	}
	stop := g.keepAlive(func(ctx context.Context) error {
		return g.rdb.PExpire(ctx, g.closed, g.cfg.Hold).Err()
	}, g.cfg.Hold)
	open = func() {
		stop()
		_ = openScript.Run(context.Background(), g.rdb, []string{g.closed}, me).Err()
	}
	for {
		n, err := liveLeases.Run(ctx, g.rdb, []string{g.leases}).Int()
		if err != nil {
			open()
			return nil, fmt.Errorf("rollup gate: wait for writers: %w", err)
		}
		if n == 0 {
			return open, nil
		}
		select {
		case <-ctx.Done():
			open()
			return nil, ctx.Err()
		case <-time.After(g.cfg.Poll):
		}
	}
}

// keepAlive renews a lease or hold every third of its life until stop is called. A failed renewal is
// retried at the next tick; the TTL decides when a writer that cannot reach Redis loses it.
func (g *Gate) keepAlive(renew func(context.Context) error, life time.Duration) (stop func()) {
	return redisx.KeepAlive(life/3, func(ctx context.Context) (bool, error) { return true, renew(ctx) }, nil)
}
