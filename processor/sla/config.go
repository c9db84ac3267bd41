package sla

import (
	"errors"
	"fmt"
	"time"

	"github.com/teplokarta/teplokarta/internal/chstore"
	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/redisx"
	"github.com/teplokarta/teplokarta/processor/sla/timers"
)

// Config of the engine.
type Config struct {
	KeyPrefix string   // Redis key prefix; default "tk:"
	Brokers   []string // Kafka bootstrap addresses; required
	// KafkaSecurity: TLS and SASL of the engine's Kafka connections; zero: plaintext.
	KafkaSecurity kafkax.Security
	StatusTopic   string        // default appeals.status: input (and where timers and the API produce)
	SLATopic      string        // default appeals.sla: at-risk and breach notices
	DLQTopic      string        // default appeals.dlq: status events that cannot be decoded, with the reason
	Group         string        // consumer group; default "teplokarta-sla"
	Instance      string        // name of this instance in logs and locks; default "sla"
	PollInterval  time.Duration // how often due timers are claimed; default 100ms
	BatchSize     int           // most events applied together; default 500
	BatchLinger   time.Duration // wait for more events after the first one; default 20ms
	ReadyCheck    time.Duration // how often to check that Redis still holds the timers; default 1s
	ResolvedTTL   time.Duration // cache lifetime of resolved appeals' state; default 7 days
	ReplyTTL      time.Duration // how long a command's result waits for its HTTP caller; default 1m
	Timers        timers.Config // lease and claim size; KeyPrefix is set from KeyPrefix
	// Durability: what a batch checks before its Kafka offsets are committed (WAIT for replicas, a master
	// change under Sentinel); a batch that fails it is applied again. Zero: nothing (docs/redis.md).
	Durability redisx.Durability
	// Reconcile: every ReconcileInterval (default 1m; 0 = never) incidents stored at least ReconcileGrace
	// ago (default 30s) and received within ReconcileLookback (default 30 days) that have no SLA record get
	// their "created" event from their appeals row.
	ReconcileInterval time.Duration
	ReconcileGrace    time.Duration
	ReconcileLookback time.Duration
	// ClickHouseAuth is who the reads of every replica connect as on a cluster (latest.go, remote()): the
	// connection's own user and password (chstore.Config.Auth). The zero value is user default without a
	// password. Nothing reads it on a single server.
	ClickHouseAuth chstore.Auth
}

// DefaultConfig returns the defaults; Brokers must still be set.
func DefaultConfig() Config {
	return Config{KeyPrefix: "tk:", StatusTopic: model.TopicStatus, SLATopic: model.TopicSLA, DLQTopic: model.TopicDLQ,
		Group: "teplokarta-sla", Instance: "sla", PollInterval: 100 * time.Millisecond, BatchSize: 500,
		BatchLinger: 20 * time.Millisecond, ReadyCheck: time.Second, ResolvedTTL: 7 * 24 * time.Hour,
		ReplyTTL: time.Minute, Timers: timers.DefaultConfig(),
		ReconcileInterval: time.Minute, ReconcileGrace: 30 * time.Second, ReconcileLookback: 30 * 24 * time.Hour}
}

// Validate reports every mistake at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("sla: no Kafka brokers"))
	}
	if c.StatusTopic == "" || c.SLATopic == "" || c.DLQTopic == "" || c.Group == "" {
		errs = append(errs, errors.New("sla: status, sla and dead-letter topics and group must be set"))
	}
	for name, d := range map[string]time.Duration{"poll interval": c.PollInterval, "batch linger": c.BatchLinger,
		"ready check": c.ReadyCheck, "resolved ttl": c.ResolvedTTL, "reply ttl": c.ReplyTTL} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("sla: %s %s must be positive", name, d))
		}
	}
	if c.ReconcileInterval < 0 || c.ReconcileGrace < 0 || c.ReconcileLookback <= 0 {
		errs = append(errs, errors.New("sla: reconcile interval and grace must not be negative, lookback must be positive"))
	}
	if c.BatchSize <= 0 {
		errs = append(errs, fmt.Errorf("sla: batch size %d must be positive", c.BatchSize))
	}
	if err := c.Durability.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("sla: %w", err))
	}
	if err := c.Timers.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
