package plugin

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/teplokarta/teplokarta/internal/model"
)

// maxPoints caps a series' length; a longer range gets a coarser step rather than a huge response.
const maxPoints = 5000

// seriesStep is the bucket size: Grafana's $__interval, at least a minute, in whole minutes, widened
// until the range fits in maxPoints.
func seriesStep(interval, span time.Duration) time.Duration {
	step := max(interval, time.Minute)
	step = (step + time.Minute - 1) / time.Minute * time.Minute
	if n := span / step; n > maxPoints {
		step = (span/maxPoints + time.Minute) / time.Minute * time.Minute
	}
	return step
}

// seriesKeyCol maps groupBy to a column (whitelist).
var seriesKeyCol = map[string]string{
	ByCategory: "category", ByMunicipality: "oktmo", BySource: "source", ByAgency: "agency", ByNone: "''",
}

func (d *Datasource) timeseries(ctx context.Context, r request) ([]*data.Frame, error) {
	step := seriesStep(r.interval, r.to.Sub(r.from))
	loc := d.cfg.Location()
	src, from, to := pickSource(r.Filters, r.GroupBy == ByAgency, r.from, r.to, step, loc)
	from = floorTime(from, step, loc)
	// Buckets count from the region's midnights, like the day rollups (a one-day step is a local day). The
	// offset at from holds for the whole range in zones without DST (all of Russia's).
	shift := int64(model.ZoneOffset(loc, from))
	key := seriesKeyCol[r.GroupBy]

	var w where
	r.Filters.countFilters(&w, src, d.cfg.Region)
	w.timeRange(src.timeCol, from, to)
	fromSQL, args := src.from(r.Filters, d.cfg.Region)
	stepSec := int64(step / time.Second)
	sql := fmt.Sprintf("SELECT %s AS k, toInt64(intDiv(toInt64(toUInt32(%s)) + ?, ?) * ?) - ? AS t, sum(%s) AS v FROM %s%s GROUP BY k, t ORDER BY k, t",
		key, src.timeCol, src.measureCol(r.Measure), fromSQL, w.sql())
	args = append([]any{shift, stepSec, stepSec, shift}, append(args, w.args...)...)

	rows, err := d.ch.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("timeseries: %w", err)
	}
	defer rows.Close()
	series := map[string]map[int64]uint64{}
	for rows.Next() {
		var k string
		var t int64
		var v uint64
		if err := rows.Scan(&k, &t, &v); err != nil {
			return nil, fmt.Errorf("timeseries: %w", err)
		}
		if series[k] == nil {
			series[k] = map[int64]uint64{}
		}
		series[k][t] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("timeseries: %w", err)
	}
	// Zero series still exist: a municipality without appeals is a value (0), not "no data", for alerts.
	switch r.GroupBy {
	case ByNone:
		if series[""] == nil {
			series[""] = map[int64]uint64{}
		}
	case ByMunicipality:
		for _, m := range d.municipalities(r.Filters) {
			if series[m.OKTMO] == nil {
				series[m.OKTMO] = map[int64]uint64{}
			}
		}
	}
	keys := make([]string, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	frames := make([]*data.Frame, 0, len(keys))
	for _, k := range keys {
		labels, display := d.seriesLabels(r.GroupBy, k)
		times := []time.Time{}
		vals := []int64{}
		for t := from; t.Before(to); t = t.Add(step) {
			times = append(times, t)
			vals = append(vals, int64(series[k][t.Unix()]))
		}
		vf := data.NewField(r.Measure, labels, vals)
		vf.Config = &data.FieldConfig{DisplayNameFromDS: display}
		f := data.NewFrame(display, data.NewField("time", nil, times), vf)
		frames = append(frames, frameMeta(f, sql))
	}
	return frames, nil
}

// seriesLabels names a series for legends and labels it for alert instances.
func (d *Datasource) seriesLabels(groupBy, key string) (data.Labels, string) {
	switch groupBy {
	case ByNone:
		return nil, "Все обращения"
	case ByMunicipality:
		name := d.munName(key)
		return data.Labels{"oktmo": key, "municipality": name}, name
	}
	return data.Labels{groupBy: key}, key
}
