package plugin_test

import (
	"context"
	"encoding/json"
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

// The SDK's test client has no stream methods, so the test dials the same in-process gRPC server with
// the generated Stream client: the path Grafana Live uses (SubscribeStream, then RunStream).
func TestStreamCounts(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2025, 6, 15, 12, 0, 30, 0, time.UTC).Unix())
	h := newHarness(t, false, map[string]any{"streamIntervalMs": 500},
		plugin.WithClock(func() time.Time { return time.Unix(now.Load(), 0) }))
	at := func(h, m, s int) time.Time { return time.Date(2025, 6, 15, h, m, s, 0, time.UTC) }
	insertAppeals(t, h.conn, []appeal{
		rya("old", ryazan, "ЖКХ", "Отопление", gzhi, "vk", at(11, 58, 0)),
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

	for path, want := range map[string]pluginv2.SubscribeStreamResponse_Status{"counts": pluginv2.SubscribeStreamResponse_OK, "other": pluginv2.SubscribeStreamResponse_NOT_FOUND} {
		r, err := sc.SubscribeStream(ctx, backend.ToProto().SubscribeStreamRequest(&backend.SubscribeStreamRequest{PluginContext: h.pctx, Path: path}))
		if err != nil || r.Status != want {
			t.Fatalf("subscribe %s: %v %v", path, r, err)
		}
	}
	pr, err := sc.PublishStream(ctx, &pluginv2.PublishStreamRequest{PluginContext: backend.ToProto().PluginContext(h.pctx), Path: "counts", Data: []byte(`{}`)})
	if err != nil || pr.Status != pluginv2.PublishStreamResponse_PERMISSION_DENIED {
		t.Fatalf("publish: %v %v", pr, err)
	}

	stream, err := sc.RunStream(ctx, backend.ToProto().RunStreamRequest(&backend.RunStreamRequest{PluginContext: h.pctx, Path: "counts"}))
	if err != nil {
		t.Fatal(err)
	}
	next := func() [][]any {
		t.Helper()
		p, err := stream.Recv()
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		var f data.Frame
		if err := json.Unmarshal(p.Data, &f); err != nil {
			t.Fatalf("frame: %v", err)
		}
		if got := fieldNames(&f); fmtAny(got) != "[time category incidents voices]" {
			t.Fatalf("fields %v", got)
		}
		return rows(&f)
	}
	sameRows(t, "first push", next(), [][]any{
		{at(11, 59, 0), "ЖКХ", int64(1), int64(1)},
		{at(12, 0, 0), "Дороги", int64(0), int64(1)},
		{at(12, 0, 0), "ЖКХ", int64(1), int64(1)},
	})

	// A new appeal lands; a later push carries it. Then the clock moves on a minute.
	insertAppeals(t, h.conn, []appeal{rya("c3", ryazan, "ЖКХ", "Отопление", gzhi, "112", at(12, 0, 40))})
	want := [][]any{
		{at(11, 59, 0), "ЖКХ", int64(1), int64(1)},
		{at(12, 0, 0), "Дороги", int64(0), int64(1)},
		{at(12, 0, 0), "ЖКХ", int64(2), int64(2)},
	}
	waitFor(t, next, want)
	now.Store(at(12, 1, 10).Unix())
	waitFor(t, next, [][]any{
		{at(12, 0, 0), "Дороги", int64(0), int64(1)},
		{at(12, 0, 0), "ЖКХ", int64(2), int64(2)},
	})
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
