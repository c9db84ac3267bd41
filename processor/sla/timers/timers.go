// Package timers keeps SLA deadlines in Redis sorted sets (score = due time in Unix milliseconds) and
// hands each due timer to exactly one of several processor instances: a Lua script takes due members and
// removes them in one atomic step. A claimed timer stays in an "inflight" set under a lease until the
// claimer acknowledges it, so an instance that dies between claiming and publishing does not lose the
// breach: once the lease expires another instance claims it again. Consumers of the resulting events
// must therefore tolerate a repeat (the SLA applier ignores event ids it has applied).
package timers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Kind is one timer family; each has its own sorted set.
type Kind string

// Timer kinds.
const (
	Breach Kind = "breach" // fires at the deadline
	AtRisk Kind = "risk"   // fires at deadline − at-risk lead
)

// Kinds lists every kind, in the order the poller serves them.
var Kinds = []Kind{Breach, AtRisk}

// Config of the timer store.
type Config struct {
	KeyPrefix string        // prepended to every key, e.g. "tk:"; default "" (tests use unique ones)
	Lease     time.Duration // how long a claim may stay unacknowledged before others retake it; default 30s
	Batch     int           // most timers one claim returns; default 1000
}

// DefaultConfig has a 30 s lease and claims of up to 1000 timers.
func DefaultConfig() Config { return Config{Lease: 30 * time.Second, Batch: 1000} }

// Validate checks the config.
func (c Config) Validate() error {
	var errs []error
	if c.Lease <= 0 {
		errs = append(errs, fmt.Errorf("timers: lease %s must be positive", c.Lease))
	}
	if c.Batch <= 0 {
		errs = append(errs, fmt.Errorf("timers: batch %d must be positive", c.Batch))
	}
	return errors.Join(errs...)
}

// Due is a claimed timer.
type Due struct {
	Kind     Kind
	AppealID string
	At       time.Time // the time it was scheduled for (the deadline for Breach)
}

// Store is the Redis timer store.
type Store struct {
	rdb redis.UniversalClient
	cfg Config
}

// New returns a store; c must be valid.
func New(rdb redis.UniversalClient, c Config) (*Store, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &Store{rdb: rdb, cfg: c}, nil
}

// Key is the sorted set of a kind (exported for benchmarks that measure its memory). A kind's two sets
// share the hash tag {timers:<kind>}, so a Redis Cluster keeps them on one slot, as claimScript needs.
func (s *Store) Key(k Kind) string { return s.cfg.KeyPrefix + "sla:{timers:" + string(k) + "}:due" }
func (s *Store) inflightKey(k Kind) string {
	return s.cfg.KeyPrefix + "sla:{timers:" + string(k) + "}:inflight"
}

// ReadyKey is the marker of complete timer sets. Its "v2" names the hash-tagged layout: a marker of the
// layout before it (sla:timers:ready) must not vouch for the new, empty sets, so an upgraded deployment
// rebuilds them from ClickHouse once (docs/redis.md).
func (s *Store) ReadyKey() string { return s.cfg.KeyPrefix + "sla:timers:ready:v2" }
func (s *Store) lockKey() string  { return s.cfg.KeyPrefix + "sla:timers:rebuild" }

func ms(t time.Time) int64 { return t.UnixMilli() }

// Schedule queues a ZADD of the timer on p: it replaces an earlier time of the same appeal and kind,
// which is how a reopened appeal moves its deadline.
func (s *Store) Schedule(ctx context.Context, p redis.Pipeliner, k Kind, appealID string, at time.Time) {
	p.ZAdd(ctx, s.Key(k), redis.Z{Score: float64(ms(at)), Member: appealID})
}

// Cancel queues the removal of the appeal's timer of kind k on p.
func (s *Store) Cancel(ctx context.Context, p redis.Pipeliner, k Kind, appealID string) {
	p.ZRem(ctx, s.Key(k), appealID)
}

// claimScript moves due members (score ≤ now) of KEYS[1] to the inflight set KEYS[2] under a lease and
// returns them with their scores; inflight members whose lease expired are retaken first. Redis runs a
// script atomically, so two instances never get the same member from one claim.
var claimScript = redis.NewScript(`
local now, limit, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit)
for _, m in ipairs(stale) do
  redis.call('ZADD', KEYS[2], now + lease, m)
  out[#out + 1] = m
end
if #out < limit then
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit - #out)
  local ids = {}
  for i = 1, #due, 2 do
    local m = due[i] .. '|' .. due[i + 1]
    redis.call('ZADD', KEYS[2], now + lease, m)
    ids[#ids + 1] = due[i]
    out[#out + 1] = m
  end
  if #ids > 0 then redis.call('ZREM', KEYS[1], unpack(ids)) end
end
return out
`)

// Claim takes up to Batch due timers of kind k as of now. Each returned timer must be acknowledged
// with Ack once its event is published; until then (for Lease) nobody else gets it.
func (s *Store) Claim(ctx context.Context, k Kind, now time.Time) ([]Due, error) {
	res, err := claimScript.Run(ctx, s.rdb, []string{s.Key(k), s.inflightKey(k)},
		ms(now), s.cfg.Batch, s.cfg.Lease.Milliseconds()).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("timers: claim %s: %w", k, err)
	}
	out := make([]Due, 0, len(res))
	for _, m := range res {
		i := strings.LastIndexByte(m, '|')
		if i < 0 {
			return nil, fmt.Errorf("timers: claim %s: bad member %q", k, m)
		}
		id := m[:i]
		f, err := strconv.ParseFloat(m[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("timers: claim %s: bad member %q", k, m)
		}
		out = append(out, Due{Kind: k, AppealID: id, At: time.UnixMilli(int64(f)).UTC()})
	}
	return out, nil
}

func member(d Due) string { return d.AppealID + "|" + strconv.FormatInt(ms(d.At), 10) }

// Ack forgets claimed timers whose events are published.
func (s *Store) Ack(ctx context.Context, due []Due) error {
	if len(due) == 0 {
		return nil
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, d := range due {
			p.ZRem(ctx, s.inflightKey(d.Kind), member(d))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("timers: ack: %w", err)
	}
	return nil
}

// Len counts scheduled (not yet claimed) timers of kind k.
func (s *Store) Len(ctx context.Context, k Kind) (int64, error) {
	n, err := s.rdb.ZCard(ctx, s.Key(k)).Result()
	if err != nil {
		return 0, fmt.Errorf("timers: count %s: %w", k, err)
	}
	return n, nil
}

// Ready reports whether the timer sets are known complete. The marker is written after a rebuild; when
// Redis lost its data (restart without persistence, FLUSHALL) it is gone, and the engine rebuilds.
func (s *Store) Ready(ctx context.Context) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.ReadyKey()).Result()
	if err != nil {
		return false, fmt.Errorf("timers: ready marker: %w", err)
	}
	return n == 1, nil
}

// MarkReady records that the timer sets are complete.
func (s *Store) MarkReady(ctx context.Context) error {
	if err := s.rdb.Set(ctx, s.ReadyKey(), time.Now().UTC().Format(time.RFC3339), 0).Err(); err != nil {
		return fmt.Errorf("timers: set ready marker: %w", err)
	}
	return nil
}

// TryLockRebuild lets one instance rebuild; the lock expires by itself if that instance dies.
func (s *Store) TryLockRebuild(ctx context.Context, owner string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.lockKey(), owner, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("timers: rebuild lock: %w", err)
	}
	return ok, nil
}

// UnlockRebuild releases the rebuild lock.
func (s *Store) UnlockRebuild(ctx context.Context) error {
	return s.rdb.Del(ctx, s.lockKey()).Err()
}
