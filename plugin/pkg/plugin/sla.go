package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

var slaKeyCol = map[string]string{ByAgency: "agency", ByMunicipality: "oktmo"}

// slaFilters scopes appeal_sla rows: by received time (the SLA clock starts there) and the filters;
// themes live only on appeals, so they go through an appeal_id subquery.
func (d *Datasource) slaFilters(w *where, f Filters, from, to time.Time) {
	w.in("region", f.regions(d.cfg.Region))
	w.in("oktmo", f.Municipalities)
	w.in("category", f.Categories)
	w.in("source", f.Sources)
	w.in("agency", f.Agencies)
	w.in("status", f.Statuses)
	if len(f.Themes) > 0 {
		// GLOBAL: with several shards a plain IN over another Distributed table is refused (docs/cluster.md).
		w.add("appeal_id GLOBAL IN (SELECT appeal_id FROM appeals WHERE region IN ? AND theme IN ?)", set(f.regions(d.cfg.Region)), set(f.Themes))
	}
	w.timeRange("received_time", from, to)
}

// sla reports compliance per agency or municipality over appeals received in the range. "Due" appeals
// are those resolved or past their deadline; the on-time share is resolved-by-deadline over due, so
// appeals still within their time do not count either way. A zero deadline means none was set.
func (d *Datasource) sla(ctx context.Context, r request) ([]*data.Frame, error) {
	var w where
	d.slaFilters(&w, r.Filters, r.from, r.to)
	now := d.now().Unix()
	sql := fmt.Sprintf(`SELECT %s AS k,
  count() AS total,
  countIf(status = 'resolved') AS resolved,
  countIf(status = 'resolved' AND (deadline = toDateTime(0) OR resolved_time <= deadline)) AS on_time,
  countIf(status = 'resolved' OR (deadline != toDateTime(0) AND deadline < toDateTime(?))) AS due,
  countIf(status != 'resolved' AND deadline != toDateTime(0) AND deadline < toDateTime(?)) AS overdue,
  quantileExactIf(0.5)(toFloat64(resolved_time) - toFloat64(received_time), status = 'resolved') / 3600 AS p50,
  quantileExactIf(0.9)(toFloat64(resolved_time) - toFloat64(received_time), status = 'resolved') / 3600 AS p90
FROM appeal_sla FINAL%s GROUP BY k ORDER BY k`, slaKeyCol[r.GroupBy], w.sql())
	args := append([]any{now, now}, w.args...)
	rows, err := d.ch.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("sla: %w", err)
	}
	defer rows.Close()
	f := data.NewFrame("sla",
		data.NewField("key", nil, []string{}),
		data.NewField("name", nil, []string{}),
		data.NewField("total", nil, []int64{}),
		data.NewField("resolved", nil, []int64{}),
		data.NewField("on_time", nil, []int64{}),
		data.NewField("overdue_now", nil, []int64{}),
		data.NewField("on_time_share", nil, []*float64{}),
		data.NewField("median_hours", nil, []*float64{}),
		data.NewField("p90_hours", nil, []*float64{}),
	)
	for rows.Next() {
		var k string
		var total, resolved, onTime, due, overdue uint64
		var p50, p90 float64
		if err := rows.Scan(&k, &total, &resolved, &onTime, &due, &overdue, &p50, &p90); err != nil {
			return nil, fmt.Errorf("sla: %w", err)
		}
		name := k
		if r.GroupBy == ByMunicipality || k == "" {
			name = d.munName(k)
		}
		var share, med, q90 *float64
		if due > 0 {
			share = ptr(float64(onTime) * 100 / float64(due))
		}
		if resolved > 0 {
			med, q90 = ptr(p50), ptr(p90)
		}
		f.AppendRow(k, name, int64(total), int64(resolved), int64(onTime), int64(overdue), share, med, q90)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sla: %w", err)
	}
	f.Fields[6].Config = &data.FieldConfig{DisplayName: "В срок", Unit: "percent", Decimals: ptr(uint16(1))}
	f.Fields[7].Config = &data.FieldConfig{DisplayName: "Медиана, ч", Decimals: ptr(uint16(1))}
	f.Fields[8].Config = &data.FieldConfig{DisplayName: "90-й перцентиль, ч", Decimals: ptr(uint16(1))}
	return []*data.Frame{frameMeta(f, sql)}, nil
}
