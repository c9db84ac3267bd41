package benchpeer

import (
	"context"
	"fmt"
	"time"

	"github.com/teplokarta/teplokarta/internal/testenv"
)

// ClickHouse keeps working after an INSERT returns: it merges the parts of appeals and of every rollup,
// and teplokarta's many smaller INSERTs leave more to merge than the peer's 65,536-row blocks. Charged by
// the drain alone, a phase's late merges were left out of its own figure and could fall into the next
// phase's. So a phase starts on an idle ClickHouse, and its ClickHouse column runs from the drain's start
// until ClickHouse is idle again after it. (That was not why a teplokarta phase that opens a round costs
// ClickHouse more than one that follows the peer: 34 against 24 µs per message both before and after.)
const (
	settleWindow = time.Second
	settleIdle   = 50 * time.Millisecond // ClickHouse's CPU per window below which it counts as idle (5 % of a core)
	settleMax    = 2 * time.Minute
)

// settle waits until ClickHouse runs no merge and spends less than settleIdle of CPU in a settleWindow,
// or settleMax passed (logged: the figure then still holds work of its own), and returns ClickHouse's CPU
// time at that moment.
func (b *bench) settle(ctx context.Context, phase string) (time.Duration, error) {
	pid := b.procs[roleClickHouse]
	deadline := time.Now().Add(settleMax)
	prev, err := testenv.ProcessCPU(pid)
	if err != nil {
		return 0, err
	}
	for {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(settleWindow):
		}
		cur, err := testenv.ProcessCPU(pid)
		if err != nil {
			return 0, err
		}
		var merges uint64
		if err := b.admin.QueryRow(ctx, "SELECT count() FROM system.merges").Scan(&merges); err != nil {
			return 0, fmt.Errorf("benchpeer: merges: %w", err)
		}
		if merges == 0 && cur-prev < settleIdle {
			return cur, nil
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(b.cfg.Log, "benchpeer: %s: ClickHouse still busy after %s (%d merges, %s CPU in the last %s)\n",
				phase, settleMax, merges, cur-prev, settleWindow)
			return cur, nil
		}
		prev = cur
	}
}
