package app_test

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/teplokarta/teplokarta/internal/kafkax"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/app"
)

// TestKcatMessageReachesClickHouse produces with a real Kafka client (kcat, librdkafka) the way an
// operator would by hand: a malformed record and a valid «Наш дом» appeal. The malformed one lands in the
// dead-letter topic with its reason; the processor keeps going and stores the valid one.
func TestKcatMessageReachesClickHouse(t *testing.T) {
	t.Parallel()
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed: `make test` installs it (apt-get install kcat)")
	}
	b := testenv.Broker(t)
	conn, _ := testenv.ClickHouse(t)
	rdb, prefix := testenv.Redis(t)
	o := app.DefaultOptions()
	o.Pipeline.Brokers, o.Pipeline.GroupID, o.Dedup.KeyPrefix = []string{b.Addr()}, "kcat", prefix
	stop := runProcessor(t, o, app.Clients{ClickHouse: conn, Redis: rdb})
	defer func() { _ = stop() }()

	produce := func(key, value string) {
		cmd := exec.Command(kcat, "-b", b.Addr(), "-P", "-t", model.RawTopic(model.SourceNashDom), "-k", key, "-H", "source=nashdom")
		cmd.Stdin = strings.NewReader(value)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("kcat: %v: %s", err, out)
		}
	}
	produce("nashdom:bad", `{"id": 1, "created_at": "вчера", "text": "нет воды"}`)
	produce("nashdom:777001", `{"id":777001,"created_at":"2026-11-20T09:15:00+03:00","text":"В Шилово на улице Советской нет воды с утра, звоните 8 912 345-67-89","category":"ЖКХ"}`)

	waitRows(t, conn, 1, time.Minute)
	var id, oktmo, text, cat string
	if err := conn.QueryRow(context.Background(), "SELECT appeal_id, oktmo, text, category FROM appeals").Scan(&id, &oktmo, &text, &cat); err != nil {
		t.Fatal(err)
	}
	if id != "nashdom:777001" || oktmo != "61658000" || cat != "ЖКХ" || strings.Contains(text, "345-67-89") || !strings.Contains(text, "[телефон]") {
		t.Fatalf("stored %s oktmo=%s category=%s text=%q", id, oktmo, cat, text)
	}

	found := false
	for _, p := range mustPartitions(t, b.Addr(), model.TopicDLQ) {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{b.Addr()}, Topic: model.TopicDLQ, Partition: p, MaxWait: 100 * time.Millisecond})
		rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
		m, err := r.ReadMessage(rctx)
		rcancel()
		r.Close()
		if err != nil {
			continue // the record went to another partition
		}
		var reason string
		for _, h := range m.Headers {
			if h.Key == model.HeaderReason {
				reason = string(h.Value)
			}
		}
		if string(m.Key) != "nashdom:bad" || !bytes.Contains(m.Value, []byte("вчера")) || !strings.HasPrefix(reason, "bad_time") {
			t.Fatalf("dead letter key=%s reason=%q value=%s", m.Key, reason, m.Value)
		}
		found = true
	}
	if !found {
		t.Fatal("the malformed record is not in the dead-letter topic")
	}
}

func mustPartitions(t *testing.T, addr, topic string) []int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ps, err := kafkax.Partitions(ctx, []string{addr}, kafkax.Security{}, topic)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}
