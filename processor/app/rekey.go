package app

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/processor/dedup"
	"github.com/teplokarta/teplokarta/processor/normalize"
	"github.com/teplokarta/teplokarta/processor/pipeline"
	"github.com/teplokarta/teplokarta/processor/sink"
)

// buildRekey assembles the first stage of DedupPartition from the processor's options: the raw topics of
// o.Pipeline in a consumer group of its own (<group>-rekey), producing to appeals.enriched through a
// writer of its own, which the caller closes.
func buildRekey(o Options, idHorizon time.Duration, rdb redis.UniversalClient, ch driver.Conn, now func() time.Time, norm normalize.Normalizer, enricher pipeline.Enricher,
	m *pipeline.Metrics, sk *sink.ClickHouse, log *slog.Logger) (*pipeline.Rekey, io.Closer, error) {
	cfg := pipeline.DefaultRekeyConfig()
	p := o.Pipeline
	cfg.Brokers, cfg.Security, cfg.GroupID, cfg.Topics, cfg.DLQTopic = p.Brokers, p.Security, p.GroupID+"-rekey", p.Topics, p.DLQTopic
	cfg.BatchSize, cfg.SessionTimeout, cfg.StopTimeout = p.BatchSize, p.SessionTimeout, p.StopTimeout
	cfg.FlushInterval = min(cfg.FlushInterval, p.FlushInterval) // the second stage waits its own
	cfg.MaxInFlight, cfg.Prefetch = p.MaxInFlight, p.Prefetch
	w, err := pipeline.NewProducer(p.Brokers, p.Security)
	if err != nil {
		return nil, nil, err
	}
	r, err := pipeline.NewRekey(cfg, norm, enricher, w, m, log)
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	if rdb != nil { // benchmarks without Redis run without routes
		routes, err := dedup.NewRoutes(rdb, ch, dedup.RoutesConfig{KeyPrefix: o.Dedup.KeyPrefix, TTL: idHorizon,
			Durability: o.Dedup.Durability, Now: now})
		if err != nil {
			w.Close()
			return nil, nil, err
		}
		r.RouteWith(routes)
	}
	r.ResumeAfterStored(func(ctx context.Context, topic string, partition int) (int64, error) {
		p, err := sk.Progress(ctx, topic, partition)
		return p.Offset, err
	})
	return r, w, nil
}
