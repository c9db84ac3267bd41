// Package dedup decides, for each normalized appeal, whether it is a new incident, another voice of an
// incident already known (the same problem reported again, through another channel or in other words),
// or an exact duplicate of a message already processed (a client retry or a replay under another
// offset). State lives in Redis, shared by all processor instances and rebuildable from ClickHouse.
// docs/deduplication.md describes the keys, the algorithm and its measurements.
package dedup

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/redisx"
)

// Kind of a dedup decision.
type Kind uint8

const (
	Incident       Kind = iota + 1 // a new problem: the appeal is its own incident
	Voice                          // the same problem as an earlier incident, counted as one more voice
	ExactDuplicate                 // the same source id seen before under another Kafka offset: drop it
)

func (k Kind) String() string {
	switch k {
	case Incident:
		return "incident"
	case Voice:
		return "voice"
	case ExactDuplicate:
		return "exact_duplicate"
	}
	return "unknown"
}

// Decision for one appeal. IncidentID is the appeal's own ID for incidents, the incident's for voices
// and "" for exact duplicates.
type Decision struct {
	Kind       Kind
	IncidentID string
}

// Deduper classifies batches of appeals.
type Deduper interface {
	// Decide classifies a batch of appeals (in Kafka order, all already normalized: ID, Source, SourceID,
	// Text (masked), OKTMO, EventTime, Origin (topic/partition/offset) set). It also sets a.Fingerprint.
	// Replaying the same messages (same Origin) returns the same decisions.
	Decide(ctx context.Context, batch []*model.Appeal) ([]Decision, error)
}

// Redis is the Deduper whose state lives in Redis. It is safe for concurrent use; instances in several
// processes may share one Redis and key prefix.
type Redis struct {
	core
	rdb redis.UniversalClient

	token atomic.Value // string: the state marker's value this instance last saw whole (EnsureState)
	guard *redisx.Guard
	turns *scopeTurns
}

var _ Deduper = (*Redis)(nil)

// New returns a Deduper over rdb. cfg's zero fields take DefaultConfig's values.
func New(rdb redis.UniversalClient, cfg Config) (*Redis, error) {
	if rdb == nil {
		return nil, fmt.Errorf("dedup: redis client is nil")
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Redis{core: core{cfg: cfg, stem: newStemmer(cfg.StemCacheSize), m: m, log: cfg.Logger}, rdb: rdb,
		guard: redisx.NewGuard(rdb, cfg.KeyPrefix+"dedup:durable", cfg.Durability), turns: newScopeTurns()}, nil
}

// core is what both dedupers share: the configuration, the stemmer and how an appeal becomes features,
// bands and keys.
type core struct {
	cfg  Config
	stem *stemmer
	m    *metrics
	log  *slog.Logger
}

func (d *Redis) idKey(id string) string { return d.cfg.KeyPrefix + "dedup:id:" + id }

// bucketKey names the LSH hash of one scope and time bucket. The scope (region and municipality; an
// unresolved municipality scopes by region alone) is a hash tag, so all buckets of a scope share a
// cluster slot and the commit script may touch two of them.
func (d *core) bucketKey(region, oktmo string, bucket int64) string {
	return d.cfg.KeyPrefix + "dedup:lsh:{" + region + ":" + oktmo + "}:" + strconv.FormatInt(bucket, 10)
}

// bucketSeconds is the width of an LSH time bucket: twice the horizon, so that [t-H, t+H] spans at most
// two buckets and every appeal reads at most two hashes.
func (d *core) bucketSeconds() int64 { return int64(2 * d.cfg.Horizon.Seconds()) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func recordField(id string) string { return "s" + id }
