package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/model"
)

// ErrWrittenInPartitionMode is returned by Run with --dedup-state redis or local on a database that
// --dedup-state partition has written. Switching back is not supported (docs/deduplication.md, "Limits of
// the partition-local modes"): the rows stored through appeals.enriched name that topic's offsets, not
// the raw ones, so the raw topics would resume after the last offset stored straight from them, before
// the switch, and every appeal stored since would be stored and counted a second time.
var ErrWrittenInPartitionMode = errors.New("this database was written with --dedup-state partition, and switching back " +
	"to redis or local would store again every appeal stored since: keep --dedup-state partition, or use a new database")

// refuseAfterPartitionMode checks appeal_progress, the sink's own progress record (one row per topic and
// partition), for rows stored from appeals.enriched.
func refuseAfterPartitionMode(ctx context.Context, ch driver.Conn) error {
	var n uint64
	if err := ch.QueryRow(ctx, `SELECT count() FROM appeal_progress WHERE kafka_topic = ?`, model.TopicEnriched).Scan(&n); err != nil {
		return fmt.Errorf("processor: read the progress of %s: %w", model.TopicEnriched, err)
	}
	if n > 0 {
		return ErrWrittenInPartitionMode
	}
	return nil
}
