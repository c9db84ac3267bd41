package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/processor/dedup"
)

// ErrNotSoleInstance: with the dedup state in this process, another instance holds some of the partitions.
// Its decisions would not see this one's claims (a retry counted twice, one problem two incidents), so
// the instance consumes nothing until it holds every partition again.
var ErrNotSoleInstance = errors.New("processor: the dedup state is in this process (--dedup-state local), but another instance of the consumer group holds partitions: run one instance, or keep the state in Redis")

// soleOwner keeps an in-process dedup state exact across generations. The state is whole while this
// process has held every partition of its topics since it last rebuilt it from ClickHouse; a generation
// that hands it only some of them may mean that another instance stored appeals meanwhile, so the next
// complete generation rebuilds first.
type soleOwner struct {
	d         *dedup.Local
	ch        driver.Conn
	brokers   []string
	security  kafkax.Security
	topics    []string
	idHorizon time.Duration
	log       *slog.Logger
	whole     bool
}

func (s *soleOwner) resume(ctx context.Context, partitions map[string][]int) error {
	missing := 0
	for _, topic := range s.topics {
		all, err := kafkax.Partitions(ctx, s.brokers, s.security, topic)
		if err != nil {
			return fmt.Errorf("processor: partitions of %s: %w", topic, err)
		}
		held := map[int]bool{}
		for _, p := range partitions[topic] {
			held[p] = true
		}
		for _, p := range all {
			if !held[p] {
				missing++
			}
		}
	}
	if missing > 0 {
		s.whole = false
		s.log.Error("not consuming: another instance holds partitions", "missing", missing, "err", ErrNotSoleInstance)
		return fmt.Errorf("%w (%d partitions are not this instance's)", ErrNotSoleInstance, missing)
	}
	if s.whole {
		return nil
	}
	if _, err := s.d.Rebuild(ctx, s.ch, time.Now().Add(-s.idHorizon)); err != nil {
		return err
	}
	s.whole = true
	return nil
}

func logOrDefault(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
