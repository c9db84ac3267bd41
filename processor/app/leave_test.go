package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/app"
)

// groupState is the consumer group's state as the coordinator reports it ("Stable", "PreparingRebalance", …).
func groupState(t *testing.T, broker, group string) string {
	t.Helper()
	cl, closeClient := kafkax.NewClient([]string{broker}, kafkax.Security{}, 5*time.Second)
	defer closeClient()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := cl.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil || len(resp.Groups) != 1 {
		t.Fatalf("describe group %s: %v", group, err)
	}
	return resp.Groups[0].GroupState
}

// A processor stopped while its JoinGroup waits for a rebalance exits promptly. kafka-go cannot interrupt
// a JoinGroup, and the processor used to wait for the group to leave: here that wait lasts until the other
// member rejoins or is dropped (its 40 s session timeout) — past a supervisor's grace period, and what
// the chaos suite's scale-three caught once ("the leaving member: still running 30s after SIGTERM").
func TestStopDuringARebalanceIsPrompt(t *testing.T) {
	t.Parallel()
	b := testenv.Broker(t)
	conn, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	simulate(t, b.Addr(), 5, 200, time.Now().Add(-24*time.Hour).Truncate(time.Hour)) // the raw topics exist
	const group = "leave-test"
	var topics []string
	for _, s := range model.KnownSources {
		topics = append(topics, model.RawTopic(s))
	}
	// The other member takes every partition and then hangs in its work: when the rebalance starts it
	// neither rejoins nor heartbeats, so the coordinator waits for it until its session times out.
	other, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{ID: group, Brokers: []string{b.Addr()}, Topics: topics,
		SessionTimeout: 40 * time.Second, RebalanceTimeout: 60 * time.Second, HeartbeatInterval: time.Second,
		Dialer: &kafka.Dialer{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	t.Cleanup(func() { close(release); other.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gen, err := other.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gen.Start(func(context.Context) { <-release })

	o := app.DefaultOptions()
	o.Pipeline.Brokers, o.Pipeline.GroupID, o.Dedup.KeyPrefix = []string{b.Addr()}, group, prefix
	o.Pipeline.SessionTimeout = 6 * time.Second
	stop := runProcessor(t, o, app.Clients{ClickHouse: conn, Redis: rdb})
	for state := groupState(t, b.Addr(), group); state != "PreparingRebalance"; state = groupState(t, b.Addr(), group) {
		if ctx.Err() != nil {
			stop()
			t.Fatalf("the processor's join did not start a rebalance (group %s)", state)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the processor is inside its JoinGroup now
	began := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// Start-up and shutdown bound, not a speed figure: the old wait lasted until the other member's
	// 40 s session ran out.
	if took := time.Since(began); took > 20*time.Second {
		t.Errorf("Run returned %s after its context ended; want about the 5 s leave bound", took.Round(time.Second))
	}
	if state := groupState(t, b.Addr(), group); state != "PreparingRebalance" {
		t.Logf("group state after the stop: %s", state)
	}
}
