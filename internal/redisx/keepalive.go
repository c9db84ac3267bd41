package redisx

import (
	"context"
	"time"
)

// KeepAlive renews something with a TTL in Redis (a lock, a lease) every period until stop is called,
// and returns only after the last renewal has finished. renew reports whether the thing is still held:
// on false it calls lost (if not nil) once and renews no more. An error is not a loss: the next tick
// tries again, and the TTL, not this loop, decides when a holder that cannot reach Redis loses it.
func KeepAlive(period time.Duration, renew func(ctx context.Context) (held bool, err error), lost func()) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if ctx.Err() != nil { // stopped while this tick waited: select picks either ready case
					return
				}
				held, err := renew(ctx)
				if err == nil && !held {
					if lost != nil {
						lost()
					}
					return
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}
