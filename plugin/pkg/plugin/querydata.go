package plugin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// QueryData answers each panel query independently: one bad query reports its own error.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	fromAlert := req.Headers[backend.FromAlertHeaderName] == "true"
	for _, q := range req.Queries {
		frames, err := d.query(ctx, q, fromAlert)
		if err != nil {
			// A message may quote the request's bytes; gRPC refuses strings that are not UTF-8, which would
			// turn a 400 into a transport failure.
			msg := strings.ToValidUTF8(err.Error(), "\uFFFD")
			d.log.Warn("query failed", "refId", q.RefID, "queryType", q.QueryType, "error", msg)
			resp.Responses[q.RefID] = backend.ErrDataResponseWithSource(statusOf(err), sourceOf(err), msg)
			continue
		}
		resp.Responses[q.RefID] = backend.DataResponse{Frames: frames}
	}
	return resp, nil
}

// badQuery marks an error as the dashboard author's (a 400), not the datasource's.
type badQuery struct{ err error }

func (b badQuery) Error() string { return b.err.Error() }
func (b badQuery) Unwrap() error { return b.err }

func statusOf(err error) backend.Status {
	if _, ok := err.(badQuery); ok {
		return backend.StatusBadRequest
	}
	return backend.StatusInternal
}

func sourceOf(err error) backend.ErrorSource {
	if _, ok := err.(badQuery); ok {
		return backend.ErrorSourceDownstream
	}
	return backend.ErrorSourcePlugin
}

// request is a parsed query with its time range.
type request struct {
	QueryModel
	refID    string
	from, to time.Time
	interval time.Duration
	alert    bool
}

func (d *Datasource) query(ctx context.Context, q backend.DataQuery, fromAlert bool) (data.Frames, error) {
	m, err := ParseQuery(q.QueryType, q.JSON)
	if err != nil {
		return nil, badQuery{err}
	}
	if err := m.Filters.outsideRegion(d.cfg.Region); err != nil {
		return nil, badQuery{err}
	}
	if !q.TimeRange.To.After(q.TimeRange.From) {
		return nil, badQuery{fmt.Errorf("empty time range %s … %s", q.TimeRange.From, q.TimeRange.To)}
	}
	r := request{QueryModel: m, refID: q.RefID, from: q.TimeRange.From.UTC(), to: q.TimeRange.To.UTC(), interval: q.Interval, alert: fromAlert}
	ctx, cancel := d.queryCtx(ctx)
	defer cancel()
	switch m.QueryType {
	case QueryHeatmap:
		return d.heatmap(ctx, r)
	case QueryTimeseries:
		return d.timeseries(ctx, r)
	case QueryTop:
		return d.top(ctx, r)
	case QuerySLA:
		return d.sla(ctx, r)
	case QueryAppeals:
		return d.appeals(ctx, r)
	case QueryPlanning:
		return d.planning(ctx, r)
	}
	return nil, badQuery{fmt.Errorf("unknown queryType %q", m.QueryType)}
}

// frameMeta records the SQL a frame came from (Grafana's query inspector shows it).
func frameMeta(f *data.Frame, sql string) *data.Frame {
	f.Meta = &data.FrameMeta{ExecutedQueryString: sql}
	return f
}
