package chaos

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
)

// inject runs the processors of the run and injects its fault at a random moment of the stream; it
// returns once the fault is over and the pipeline has been left to finish.
func (r *run) inject(ctx context.Context) error {
	at := func() float64 { return 0.15 + 0.6*r.rng.Float64() } // somewhere in the middle of the stream
	switch r.fault {
	case "processor-sigkill":
		// Killed at three random moments, each time restarted at once.
		p, err := r.startProcessor()
		if err != nil {
			return err
		}
		marks := []float64{at(), at(), at()}
		slices.Sort(marks)
		for _, m := range marks {
			if err := r.waitFor(ctx, m); err != nil {
				return err
			}
			p.kill()
			if p, err = r.startProcessor(); err != nil {
				return err
			}
		}
	case "kill-after-store":
		// Killed right after a stored batch, before its incidents' created events went out.
		p, err := r.startProcessor(envKillAfterStore + "=" + strconv.Itoa(1+r.rng.IntN(8)))
		if err != nil {
			return err
		}
		select {
		case <-p.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if _, err := r.startProcessor(); err != nil {
			return err
		}
	case "rebalance-kill":
		// A second member joins (the partitions are split), then the first is killed: the survivor takes
		// its partitions after the session times out.
		first, err := r.startProcessor()
		if err != nil {
			return err
		}
		if err := r.waitFor(ctx, 0.1); err != nil {
			return err
		}
		if _, err := r.startProcessor(); err != nil {
			return err
		}
		if err := r.waitFor(ctx, at()); err != nil {
			return err
		}
		first.kill()
	case "scale-three":
		// Two members drain the stream; a third joins mid-stream, then one of the first two leaves
		// cleanly (SIGTERM: it flushes, commits and leaves the group) — partitions move twice.
		a, err := r.startProcessor()
		if err != nil {
			return err
		}
		if _, err := r.startProcessor(); err != nil {
			return err
		}
		marks := []float64{at(), at()}
		slices.Sort(marks)
		if err := r.waitFor(ctx, marks[0]); err != nil {
			return err
		}
		if _, err := r.startProcessor(); err != nil {
			return err
		}
		if err := r.waitFor(ctx, marks[1]); err != nil {
			return err
		}
		if err := a.stop(30 * time.Second); err != nil {
			return fmt.Errorf("the leaving member: %w", err)
		}
	case "broker-restart":
		// The embedded broker is killed and started again from its data directory.
		if _, err := r.startProcessor(); err != nil {
			return err
		}
		if err := r.waitFor(ctx, at()); err != nil {
			return err
		}
		r.broker.kill()
		time.Sleep(time.Duration(r.rng.IntN(3000)) * time.Millisecond)
		if err := r.startBroker(ctx); err != nil {
			return err
		}
	case "clickhouse-stop":
		// ClickHouse is killed (SIGKILL, mid-INSERT as likely as not) and stays down for CHPause.
		if _, err := r.startProcessor(); err != nil {
			return err
		}
		if err := r.waitFor(ctx, at()); err != nil {
			return err
		}
		if err := r.cfg.Stack.KillClickHouse(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.cfg.CHPause):
		}
		if err := r.cfg.Stack.Start(ctx); err != nil {
			return err
		}
	case "redis-wipe":
		// Redis restarts without its data while the processor runs.
		if _, err := r.startProcessor(); err != nil {
			return err
		}
		if err := r.waitFor(ctx, at()); err != nil {
			return err
		}
		if err := r.cfg.Stack.RestartRedisEmpty(ctx); err != nil {
			return err
		}
	case "grow-enriched":
		// With --dedup-state partition: two members drain the stream; a third joins mid-stream with
		// --enriched-partitions raised by 5 (not a multiple: scopes move between old partitions too), and
		// grows appeals.enriched under the two, which take up the added partitions and forward what was
		// keyed under the old count.
		if _, err := r.startProcessor(); err != nil {
			return err
		}
		if _, err := r.startProcessor(); err != nil {
			return err
		}
		if err := r.waitFor(ctx, at()); err != nil {
			return err
		}
		from := enrichedPartitions(r.cfg.ProcessFlags)
		if _, err := r.startProcessorWith([]string{"--enriched-partitions", strconv.Itoa(from + 5)}); err != nil {
			return err
		}
		// The run counts only if the topic did grow while the two consumed it.
		if err := r.until(ctx, model.TopicEnriched+" to grow", func() (bool, string, error) {
			parts, err := kafkax.Partitions(ctx, []string{r.brokerAddr()}, kafkax.Security{}, model.TopicEnriched)
			if err != nil {
				return false, err.Error(), nil
			}
			return len(parts) == from+5, fmt.Sprintf("%d partitions", len(parts)), nil
		}); err != nil {
			return err
		}
		fmt.Fprintf(r.log, "chaos: grow-enriched seed %d: %s grew from %d to %d partitions mid-stream\n", r.seed, model.TopicEnriched, from, from+5)
	case "ingest-sigkill":
		return r.ingestSigkill(ctx, at)
	default:
		return fmt.Errorf("unknown fault %q", r.fault)
	}
	return nil
}

// envKillAfterStore is the processor's test hook (cmd/teplokarta): SIGKILL after the N-th stored batch.
const envKillAfterStore = "TEPLOKARTA_TEST_KILL_AFTER_STORE"

// enrichedPartitions is the last --enriched-partitions of processFlags, else the processor's default (8).
func enrichedPartitions(processFlags []string) int {
	if v, ok := flagValue(processFlags, "enriched-partitions"); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return 8
}
