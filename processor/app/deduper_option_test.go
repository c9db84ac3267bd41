package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/app"
)

// Options.Deduper replaces the Redis deduper (BenchmarkReplayThroughput's stages without Redis rely on
// it): no Redis client is needed, and what the replacement decides is what ClickHouse stores.
func TestDeduperOption(t *testing.T) {
	t.Parallel()
	b := testenv.Broker(t)
	conn, _ := testenv.ClickHouse(t)
	truth := simulate(t, b.Addr(), 7, 3000, time.Now().Add(-30*24*time.Hour).Truncate(time.Hour))

	o := app.DefaultOptions()
	o.Pipeline.Brokers, o.Pipeline.GroupID = []string{b.Addr()}, "no-redis"
	o.Deduper = &firstOfEachID{seen: map[string]bool{}}
	stop := runProcessor(t, o, app.Clients{ClickHouse: conn})
	waitRows(t, conn, truth.Appeals, 2*time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var rows, incidents, ownIncident uint64
	if err := conn.QueryRow(context.Background(),
		"SELECT count(), sum(is_incident), countIf(incident_id = appeal_id) FROM appeals").Scan(&rows, &incidents, &ownIncident); err != nil {
		t.Fatal(err)
	}
	// The simulator's cross-channel copies would be voices with Redis; here every appeal is its own incident.
	if rows != uint64(truth.Appeals) || incidents != rows || ownIncident != rows {
		t.Fatalf("rows %d, incidents %d, own incident %d; want %d of each", rows, incidents, ownIncident, truth.Appeals)
	}
	if truth.Messages <= truth.Appeals {
		t.Fatalf("the simulator sent no retries (%d messages, %d appeals): the test would not see them dropped", truth.Messages, truth.Appeals)
	}
}
