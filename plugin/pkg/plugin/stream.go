package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// StreamPath is the Live channel path: ds/<uid>/counts.
const StreamPath = "counts"

// SubscribeStream admits subscribers to the counts channel only.
func (d *Datasource) SubscribeStream(_ context.Context, req *backend.SubscribeStreamRequest) (*backend.SubscribeStreamResponse, error) {
	if req.Path != StreamPath {
		return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusNotFound}, nil
	}
	return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusOK}, nil
}

// PublishStream refuses: the channel is fed by the backend only.
func (d *Datasource) PublishStream(context.Context, *backend.PublishStreamRequest) (*backend.PublishStreamResponse, error) {
	return &backend.PublishStreamResponse{Status: backend.PublishStreamStatusPermissionDenied}, nil
}

// RunStream pushes the current and previous minute's counts by category until Grafana has no subscribers
// left (ctx ends). The previous minute is included because late rows keep changing it after it closes.
// A failed read is logged and retried on the next tick, so a ClickHouse restart does not end the stream.
func (d *Datasource) RunStream(ctx context.Context, req *backend.RunStreamRequest, sender *backend.StreamSender) error {
	if req.Path != StreamPath {
		return fmt.Errorf("stream: unknown path %q", req.Path)
	}
	var opts struct {
		Regions []string `json:"regions"`
	}
	if len(req.Data) > 0 {
		_ = json.Unmarshal(req.Data, &opts) // optional; a malformed body means the default region
	}
	tick := time.NewTicker(d.cfg.StreamInterval())
	defer tick.Stop()
	for {
		f, err := d.liveCounts(ctx, Filters{Regions: opts.Regions})
		switch {
		case err != nil && ctx.Err() == nil:
			d.log.Warn("stream read failed", "error", err.Error())
		case err == nil:
			if err := sender.SendFrame(f, data.IncludeAll); err != nil {
				return fmt.Errorf("stream: send: %w", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (d *Datasource) liveCounts(ctx context.Context, f Filters) (*data.Frame, error) {
	ctx, cancel := d.queryCtx(ctx)
	defer cancel()
	cur := d.now().UTC().Truncate(time.Minute)
	var w where
	w.in("region", f.regions(d.cfg.Region))
	w.timeRange("window_start", cur.Add(-time.Minute), cur.Add(time.Minute))
	sql := "SELECT window_start, category, sum(incidents), sum(voices) FROM appeal_counts_1m" + w.sql() +
		" GROUP BY window_start, category ORDER BY window_start, category"
	rows, err := d.ch.Query(ctx, sql, w.args...)
	if err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	defer rows.Close()
	fr := data.NewFrame("counts",
		data.NewField("time", nil, []time.Time{}),
		data.NewField("category", nil, []string{}),
		data.NewField("incidents", nil, []int64{}),
		data.NewField("voices", nil, []int64{}),
	)
	for rows.Next() {
		var t time.Time
		var cat string
		var inc, voi uint64
		if err := rows.Scan(&t, &cat, &inc, &voi); err != nil {
			return nil, fmt.Errorf("stream: %w", err)
		}
		fr.AppendRow(t.UTC(), cat, int64(inc), int64(voi))
	}
	return fr, rows.Err()
}
