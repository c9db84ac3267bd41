package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// StreamPath is the Live channel path: ds/<uid>/counts (the default window) or ds/<uid>/counts/<minutes>.
const StreamPath = "counts"

// Live windows: a channel counts/<n> carries the last n minutes (the current one included).
const (
	DefaultLiveMinutes = 60
	MaxLiveMinutes     = 24 * 60
)

// liveMinutes reads the window of a channel path; ok is false for a path this datasource does not serve.
func liveMinutes(path string) (n int, ok bool) {
	if path == StreamPath {
		return DefaultLiveMinutes, true
	}
	rest, found := strings.CutPrefix(path, StreamPath+"/")
	if !found {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 1 || n > MaxLiveMinutes || strconv.Itoa(n) != rest {
		return 0, false
	}
	return n, true
}

// SubscribeStream admits subscribers to the counts channels and hands each the window's current frame,
// so a subscriber joining a running channel has the whole picture before the next change is pushed.
func (d *Datasource) SubscribeStream(ctx context.Context, req *backend.SubscribeStreamRequest) (*backend.SubscribeStreamResponse, error) {
	minutes, ok := liveMinutes(req.Path)
	if !ok {
		return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusNotFound}, nil
	}
	resp := &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusOK}
	f, err := d.liveCounts(ctx, liveFilters(req.Data), minutes)
	if err != nil {
		d.log.Warn("stream initial read failed", "error", err.Error())
		return resp, nil // the stream's first push follows
	}
	if resp.InitialData, err = backend.NewInitialFrame(f, data.IncludeAll); err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	return resp, nil
}

// PublishStream refuses: the channel is fed by the backend only.
func (d *Datasource) PublishStream(context.Context, *backend.PublishStreamRequest) (*backend.PublishStreamResponse, error) {
	return &backend.PublishStreamResponse{Status: backend.PublishStreamStatusPermissionDenied}, nil
}

// RunStream pushes the window's counts by minute and category until Grafana has no subscribers left (ctx
// ends). Each frame is the whole window as ClickHouse has it now, late rows included, and is meant to
// REPLACE what the subscriber holds (the frontend's buffer uses StreamingFrameAction.Replace): appending
// re-sent minutes would count them again. A frame equal to the last one sent is not sent.
// A failed read is logged and retried on the next tick, so a ClickHouse restart does not end the stream.
func (d *Datasource) RunStream(ctx context.Context, req *backend.RunStreamRequest, sender *backend.StreamSender) error {
	minutes, ok := liveMinutes(req.Path)
	if !ok {
		return fmt.Errorf("stream: unknown path %q", req.Path)
	}
	filters := liveFilters(req.Data)
	tick := time.NewTicker(d.cfg.StreamInterval())
	defer tick.Stop()
	var last []byte
	for {
		f, err := d.liveCounts(ctx, filters, minutes)
		switch {
		case err != nil && ctx.Err() == nil:
			d.log.Warn("stream read failed", "error", err.Error())
		case err == nil:
			b, err := data.FrameToJSON(f, data.IncludeAll)
			if err != nil {
				return fmt.Errorf("stream: %w", err)
			}
			if !bytes.Equal(b, last) {
				if err := sender.SendJSON(b); err != nil {
					return fmt.Errorf("stream: send: %w", err)
				}
				last = b
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// liveFilters reads the optional subscription body {"regions": [...]}; a malformed one means the
// datasource's region.
func liveFilters(body []byte) Filters {
	var opts struct {
		Regions []string `json:"regions"`
	}
	if len(body) > 0 {
		_ = json.Unmarshal(body, &opts)
	}
	return Filters{Regions: opts.Regions}
}

// liveCounts reads the last `minutes` one-minute windows, the current one included.
func (d *Datasource) liveCounts(ctx context.Context, f Filters, minutes int) (*data.Frame, error) {
	ctx, cancel := d.queryCtx(ctx)
	defer cancel()
	cur := d.now().UTC().Truncate(time.Minute)
	var w where
	w.in("region", f.regions(d.cfg.Region))
	w.timeRange("window_start", cur.Add(-time.Duration(minutes-1)*time.Minute), cur.Add(time.Minute))
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
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if n, _ := fr.RowLen(); n == 0 {
		// Grafana's buffer ignores a frame without rows, so a window that empties would keep showing its old
		// rows: a single zero row at the current minute replaces them instead.
		fr.AppendRow(cur, "", int64(0), int64(0))
	}
	return fr, nil
}
