package timers

import (
	"context"
	"log/slog"
	"time"
)

// Clock is the time source the poller compares deadlines with (tests move a fake one).
type Clock interface{ Now() time.Time }

// Handler publishes claimed timers. It returns an error when nothing could be published; the timers are
// then not acknowledged and come back after the lease.
type Handler func(ctx context.Context, due []Due) error

// Poll claims due timers every interval until ctx ends. A full batch is followed at once by another
// claim, so a burst of deadlines drains at Redis speed rather than one batch per tick.
func (s *Store) Poll(ctx context.Context, clk Clock, interval time.Duration, log *slog.Logger, handle Handler) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, k := range Kinds {
			for ctx.Err() == nil {
				due, err := s.Claim(ctx, k, clk.Now())
				if err != nil {
					if ctx.Err() == nil {
						log.Warn("sla timers: claim failed", "kind", k, "err", err)
					}
					break
				}
				if len(due) == 0 {
					break
				}
				if err := handle(ctx, due); err != nil {
					log.Warn("sla timers: publish failed; timers retried after the lease", "kind", k, "n", len(due), "err", err)
					break
				}
				if err := s.Ack(ctx, due); err != nil {
					log.Warn("sla timers: ack failed; timers may be republished", "err", err)
				}
				if len(due) < s.cfg.Batch {
					break
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
