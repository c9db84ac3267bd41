package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/app"
)

var localState = []string{"--dedup-state", app.DedupLocal}

// With the dedup state in the process, the counts equal the truth as with Redis, and Redis holds no
// dedup key.
func TestEndToEndLocalDedupState(t *testing.T) {
	t.Parallel()
	endToEndWithState(t, 43, "e2e-local", func(o *app.Options) { o.DedupState = app.DedupLocal })
}

// Every restart rebuilds the state from ClickHouse: SIGKILLed three times mid-stream, the processor still
// loses and doubles nothing.
func TestSIGKILLWithLocalDedupState(t *testing.T) {
	t.Parallel()
	sigkillThreeTimes(t, 8, 30000, localState)
}

// A second instance with its state in the process makes both stop consuming: neither could see the
// other's claims. Once it is gone, the first holds every partition again, rebuilds from ClickHouse (the
// state may be behind what the other stored) and finishes exactly.
func TestLocalDedupStateRefusesASecondInstance(t *testing.T) {
	t.Parallel()
	broker := startBroker(t)
	conn, cfg := testenv.ClickHouse(t)
	_, prefix := testenv.Redis(t)
	truth := simulate(t, broker, 12, 30000, time.Now().Add(-40*24*time.Hour).Truncate(time.Hour))
	_, firstLog := startChildWith(t, broker, cfg.Database, prefix, localState)
	waitProgress(t, conn, truth.Appeals/4, 4*time.Minute)
	second, secondLog := startChildWith(t, broker, cfg.Database, prefix, localState)
	const refusal = "another instance of the consumer group holds partitions"
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(firstLog.String(), refusal) || !strings.Contains(secondLog.String(), refusal) {
		if time.Now().After(deadline) {
			t.Fatalf("both instances must refuse to consume once the partitions are split")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Both have refused their generation's partitions; whatever the first still had in flight is stored by
	// now (a generation ends only after its batches), and nothing more may be.
	time.Sleep(2 * time.Second)
	held := rowCount(t, conn)
	time.Sleep(3 * time.Second)
	if n := rowCount(t, conn); n != held {
		t.Fatalf("stored rows went from %d to %d (of %d) while the partitions were split", held, n, truth.Appeals)
	}
	second.kill()
	t.Logf("second instance killed at %d stored rows", held)
	waitRows(t, conn, truth.Appeals, 4*time.Minute)
	compareWithTruth(t, conn, truth)
	if !strings.Contains(firstLog.String(), "in-process state rebuilt from clickhouse") {
		t.Fatal("the first instance did not rebuild its state")
	}
}
