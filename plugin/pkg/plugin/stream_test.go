package plugin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/teplokarta/teplokarta/plugin/pkg/plugin"
)

// liveFixture is where TestStreamCounts leaves the frames it received, for the frontend's buffer test
// (plugin/src/liveStream.test.ts): every frame exactly as Grafana Live hands it on, and ClickHouse's own
// sums over the last window. The content is deterministic (fixed clock, fixed rows), so rerunning the test
// leaves the committed file unchanged unless the backend's frames change.
const liveFixture = "../../src/testdata/live-stream.json"

// The SDK's test client has no stream methods, so the test dials the same in-process gRPC server with
// the generated Stream client: the path Grafana Live uses (SubscribeStream, then RunStream).
func TestStreamCounts(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2025, 6, 15, 12, 0, 30, 0, time.UTC).Unix())
	h := newHarness(t, false, map[string]any{"streamIntervalMs": 500},
		plugin.WithClock(func() time.Time { return time.Unix(now.Load(), 0) }))
	at := func(h, m, s int) time.Time { return time.Date(2025, 6, 15, h, m, s, 0, time.UTC) }
	insertAppeals(t, h.conn, []appeal{
		rya("old", ryazan, "ЖКХ", "Отопление", gzhi, "vk", at(11, 57, 0)),
		rya("p1", ryazan, "ЖКХ", "Отопление", gzhi, "vk", at(11, 59, 10)),
		rya("c1", kasimov, "ЖКХ", "Отопление", gzhi, "vk", at(12, 0, 5)),
		voice(rya("c2", ryazan, "Дороги", "Ямы", mintrans, "vk", at(12, 0, 20)), "x"),
		{id: "mow", region: "RU-MOW", oktmo: "45000000", category: "ЖКХ", source: "vk", at: at(12, 0, 0)},
	})

	conn, err := grpc.NewClient(h.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sc := pluginv2.NewStreamClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	const path = "counts/3" // the last three minutes, the current one included
	for p, want := range map[string]pluginv2.SubscribeStreamResponse_Status{
		"counts": pluginv2.SubscribeStreamResponse_OK, path: pluginv2.SubscribeStreamResponse_OK, "counts/1440": pluginv2.SubscribeStreamResponse_OK,
		"counts/0": pluginv2.SubscribeStreamResponse_NOT_FOUND, "counts/1441": pluginv2.SubscribeStreamResponse_NOT_FOUND,
		"counts/03": pluginv2.SubscribeStreamResponse_NOT_FOUND, "counts/x": pluginv2.SubscribeStreamResponse_NOT_FOUND,
		"other": pluginv2.SubscribeStreamResponse_NOT_FOUND,
	} {
		r, err := sc.SubscribeStream(ctx, backend.ToProto().SubscribeStreamRequest(&backend.SubscribeStreamRequest{PluginContext: h.pctx, Path: p}))
		if err != nil || r.Status != want {
			t.Fatalf("subscribe %s: %v %v", p, r, err)
		}
	}
	pr, err := sc.PublishStream(ctx, &pluginv2.PublishStreamRequest{PluginContext: backend.ToProto().PluginContext(h.pctx), Path: "counts", Data: []byte(`{}`)})
	if err != nil || pr.Status != pluginv2.PublishStreamResponse_PERMISSION_DENIED {
		t.Fatalf("publish: %v %v", pr, err)
	}

	var messages []json.RawMessage // what a subscriber receives, in order
	decode := func(b []byte) [][]any {
		t.Helper()
		var f data.Frame
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("frame: %v", err)
		}
		if got := fieldNames(&f); fmtAny(got) != "[time category incidents voices]" {
			t.Fatalf("fields %v", got)
		}
		messages = append(messages, append(json.RawMessage(nil), b...))
		return rows(&f)
	}
	first := [][]any{
		{at(11, 59, 0), "ЖКХ", int64(1), int64(1)},
		{at(12, 0, 0), "Дороги", int64(0), int64(1)},
		{at(12, 0, 0), "ЖКХ", int64(1), int64(1)},
	}
	// A subscriber joining gets the whole window at once, before any push.
	sub, err := sc.SubscribeStream(ctx, backend.ToProto().SubscribeStreamRequest(&backend.SubscribeStreamRequest{PluginContext: h.pctx, Path: path}))
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, "initial data", decode(sub.Data), first)

	stream, err := sc.RunStream(ctx, backend.ToProto().RunStreamRequest(&backend.RunStreamRequest{PluginContext: h.pctx, Path: path}))
	if err != nil {
		t.Fatal(err)
	}
	next := func() [][]any {
		t.Helper()
		p, err := stream.Recv()
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		return decode(p.Data)
	}
	sameRows(t, "first push", next(), first)

	// A new appeal lands; the next push carries it (nothing is pushed while nothing changes).
	insertAppeals(t, h.conn, []appeal{rya("c3", ryazan, "ЖКХ", "Отопление", gzhi, "112", at(12, 0, 40))})
	sameRows(t, "after a new appeal", next(), [][]any{
		{at(11, 59, 0), "ЖКХ", int64(1), int64(1)},
		{at(12, 0, 0), "Дороги", int64(0), int64(1)},
		{at(12, 0, 0), "ЖКХ", int64(2), int64(2)},
	})
	// A late appeal changes a minute already sent: the window is sent again with it.
	insertAppeals(t, h.conn, []appeal{rya("late", kasimov, "Дороги", "Ямы", mintrans, "vk", at(11, 58, 30))})
	sameRows(t, "after a late appeal", next(), [][]any{
		{at(11, 58, 0), "Дороги", int64(1), int64(1)},
		{at(11, 59, 0), "ЖКХ", int64(1), int64(1)},
		{at(12, 0, 0), "Дороги", int64(0), int64(1)},
		{at(12, 0, 0), "ЖКХ", int64(2), int64(2)},
	})
	// The clock moves on a minute: 11:58 leaves the window, 12:01 enters.
	insertAppeals(t, h.conn, []appeal{rya("c4", ryazan, "Дороги", "Ямы", mintrans, "pos", at(12, 1, 5))})
	now.Store(at(12, 1, 10).Unix())
	sameRows(t, "next minute", next(), [][]any{
		{at(11, 59, 0), "ЖКХ", int64(1), int64(1)},
		{at(12, 0, 0), "Дороги", int64(0), int64(1)},
		{at(12, 0, 0), "ЖКХ", int64(2), int64(2)},
		{at(12, 1, 0), "Дороги", int64(1), int64(1)},
	})
	// A quiet spell: the window empties, and one zero row replaces the rows that left it.
	now.Store(at(12, 10, 10).Unix())
	sameRows(t, "empty window", next(), [][]any{{at(12, 10, 0), "", int64(0), int64(0)}})
	// Appeals come back.
	insertAppeals(t, h.conn, []appeal{
		rya("q1", kasimov, "ЖКХ", "Отопление", gzhi, "vk", at(12, 9, 20)),
		voice(rya("q2", kasimov, "ЖКХ", "Отопление", gzhi, "112", at(12, 10, 1)), "q1"),
	})
	last := [][]any{
		{at(12, 9, 0), "ЖКХ", int64(1), int64(1)},
		{at(12, 10, 0), "ЖКХ", int64(0), int64(1)},
	}
	sameRows(t, "after the quiet spell", next(), last)
	// messages[0] is the subscription's initial data, which the stream's first push repeats.
	for i := 2; i < len(messages); i++ {
		if bytes.Equal(messages[i], messages[i-1]) {
			t.Errorf("message %d repeats message %d: only changes are pushed", i, i-1)
		}
	}

	// ClickHouse's own figures for the last window, which whatever the subscriber holds must equal.
	var incidents, voices uint64
	if err := h.conn.QueryRow(ctx, "SELECT sum(incidents), sum(voices) FROM appeal_counts_1m WHERE region = 'RU-RYA' AND window_start >= ? AND window_start < ?",
		at(12, 8, 0), at(12, 11, 0)).Scan(&incidents, &voices); err != nil {
		t.Fatal(err)
	}
	var sumInc, sumVoi int64
	for _, r := range last {
		sumInc, sumVoi = sumInc+r[2].(int64), sumVoi+r[3].(int64)
	}
	if uint64(sumInc) != incidents || uint64(sumVoi) != voices {
		t.Fatalf("last frame sums %d incidents, %d voices; ClickHouse %d, %d", sumInc, sumVoi, incidents, voices)
	}
	out, err := json.MarshalIndent(map[string]any{
		"generatedBy": "go test -run TestStreamCounts ./plugin/pkg/plugin/",
		"path":        path,
		"messages":    messages,
		"clickhouse":  map[string]any{"from": at(12, 8, 0), "to": at(12, 11, 0), "incidents": incidents, "voices": voices},
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(liveFixture, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitFor reads pushes until one equals want (pushes already in flight may predate the change).
func waitFor(t *testing.T, next func() [][]any, want [][]any) {
	t.Helper()
	var got [][]any
	for range 10 {
		if got = next(); fmtAny(got) == fmtAny(want) {
			return
		}
	}
	t.Fatalf("pushes never showed %v; last %v", want, got)
}
