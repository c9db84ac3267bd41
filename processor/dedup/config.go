package dedup

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/teplokarta/teplokarta/internal/redisx"
)

// Config of the Redis-backed deduplicator. Zero fields take the defaults of DefaultConfig.
type Config struct {
	// KeyPrefix is put before every key ("<prefix>dedup:…"). Default "teplokarta:".
	KeyPrefix string
	// IDHorizon is how long an exact id claim is kept: retries and replays of the same source id within
	// it are recognised. Default 30 days.
	IDHorizon time.Duration
	// Horizon is the event-time distance within which two texts can be near-duplicates. Default 48 h.
	Horizon time.Duration
	// Threshold is the minimum estimated overlap |A∩B|/min(|A|,|B|) of stem sets for a voice. Default 0.55.
	Threshold float64
	// MinTokens: texts with fewer content stems are never matched by content (they would collide
	// spuriously: "нет воды"); they are incidents unless their id repeats. Default 4.
	MinTokens int
	// MaxCandidates bounds the LSH candidates verified per appeal, most shared bands first. Default 8.
	MaxCandidates int
	// CommitRetries bounds how often an incident whose claims raced with another instance is re-decided
	// before it is stored as is. Default 5.
	CommitRetries int
	// StemCacheSize bounds the word → stem cache. Default 200 000 (≈ 20 MB).
	StemCacheSize int
	// Durability: what a batch checks before its decisions count as stored (WAIT for replicas, a master
	// change under Sentinel); a batch that fails the check is redone. Zero: nothing (docs/redis.md).
	Durability redisx.Durability
	// Registerer receives the metrics; nil means none are registered.
	Registerer prometheus.Registerer
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		KeyPrefix:     "teplokarta:",
		IDHorizon:     30 * 24 * time.Hour,
		Horizon:       48 * time.Hour,
		Threshold:     0.55,
		MinTokens:     4,
		MaxCandidates: 8,
		CommitRetries: 5,
		StemCacheSize: 200_000,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.KeyPrefix == "" {
		c.KeyPrefix = d.KeyPrefix
	}
	if c.IDHorizon == 0 {
		c.IDHorizon = d.IDHorizon
	}
	if c.Horizon == 0 {
		c.Horizon = d.Horizon
	}
	if c.Threshold == 0 {
		c.Threshold = d.Threshold
	}
	if c.MinTokens == 0 {
		c.MinTokens = d.MinTokens
	}
	if c.MaxCandidates == 0 {
		c.MaxCandidates = d.MaxCandidates
	}
	if c.CommitRetries == 0 {
		c.CommitRetries = d.CommitRetries
	}
	if c.StemCacheSize == 0 {
		c.StemCacheSize = d.StemCacheSize
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports configuration mistakes.
func (c Config) Validate() error {
	var errs []error
	if c.IDHorizon < time.Second {
		errs = append(errs, errors.New("dedup: id horizon must be at least 1s"))
	}
	if c.Horizon < time.Second {
		errs = append(errs, errors.New("dedup: horizon must be at least 1s"))
	}
	if c.Threshold <= 0 || c.Threshold > 1 {
		errs = append(errs, errors.New("dedup: threshold must be in (0, 1]"))
	}
	if c.MinTokens < 1 {
		errs = append(errs, errors.New("dedup: min tokens must be positive"))
	}
	if c.MaxCandidates < 1 {
		errs = append(errs, errors.New("dedup: max candidates must be positive"))
	}
	if c.CommitRetries < 0 {
		errs = append(errs, errors.New("dedup: commit retries must not be negative"))
	}
	if c.StemCacheSize < 1 {
		errs = append(errs, errors.New("dedup: stem cache size must be positive"))
	}
	if err := c.Durability.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("dedup: %w", err))
	}
	return errors.Join(errs...)
}
