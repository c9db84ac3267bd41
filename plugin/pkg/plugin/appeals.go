package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/teplokarta/teplokarta/processor/pii"
)

// textMasker is the processor's masker. The processor masks before storage; the drill-down masks again
// because it is the one place raw text reaches a screen, and older rows may predate a masking rule (names
// were not masked before issue 14).
var textMasker = pii.New()

// appeals lists appeals for drill-down, newest first, with the current status and agency from appeal_sla
// (the routed agency and status "new" until the SLA engine has a row). Without a status filter the limit
// is applied before the join, so a year-long range does not join millions of rows.
func (d *Datasource) appeals(ctx context.Context, r request) ([]*data.Frame, error) {
	regions := r.Filters.regions(d.cfg.Region)
	var inner where
	f := r.Filters
	f.Statuses = nil
	f.countFilters(&inner, rawSource, d.cfg.Region)
	inner.timeRange("event_time", r.from, r.to)
	innerLimit := ""
	var outer where
	outer.in(statusExpr, r.Filters.Statuses)
	if len(r.Filters.Statuses) == 0 {
		innerLimit = " ORDER BY event_time DESC, appeal_id LIMIT ?"
		inner.args = append(inner.args, r.Limit)
	}
	sql := fmt.Sprintf(`SELECT appeal_id, event_time, oktmo, category, theme, source, text, address, url, routed_agency, %s AS st,
  if(sla_agency = '', routed_agency, sla_agency) AS ag, sla_deadline
FROM (SELECT appeal_id, event_time, oktmo, category, theme, source, text, address, url, agency AS routed_agency FROM appeals%s%s)
GLOBAL ANY LEFT JOIN (SELECT appeal_id, status AS sla_status, agency AS sla_agency, deadline AS sla_deadline FROM appeal_sla FINAL WHERE region IN ?) USING appeal_id%s
ORDER BY event_time DESC, appeal_id LIMIT ?`, statusExpr, inner.sql(), innerLimit, outer.sql())
	args := append(append(append(inner.args, set(regions)), outer.args...), r.Limit)
	rows, err := d.ch.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("appeals: %w", err)
	}
	defer rows.Close()
	fr := data.NewFrame("appeals",
		data.NewField("time", nil, []time.Time{}),
		data.NewField("appeal_id", nil, []string{}),
		data.NewField("municipality", nil, []string{}),
		data.NewField("oktmo", nil, []string{}),
		data.NewField("category", nil, []string{}),
		data.NewField("theme", nil, []string{}),
		data.NewField("source", nil, []string{}),
		data.NewField("status", nil, []string{}),
		data.NewField("agency", nil, []string{}),
		data.NewField("deadline", nil, []*time.Time{}),
		data.NewField("text", nil, []string{}),
		data.NewField("address", nil, []string{}),
		data.NewField("url", nil, []string{}),
	)
	for rows.Next() {
		var id, oktmo, cat, theme, src, text, addr, url, routed, status, agency string
		var at, deadline time.Time
		if err := rows.Scan(&id, &at, &oktmo, &cat, &theme, &src, &text, &addr, &url, &routed, &status, &agency, &deadline); err != nil {
			return nil, fmt.Errorf("appeals: %w", err)
		}
		var dl *time.Time
		if deadline.Unix() > 0 {
			dl = ptr(deadline.UTC())
		}
		fr.AppendRow(at.UTC(), id, d.munName(oktmo), oktmo, cat, theme, src, status, agency, dl, textMasker.Mask(text), textMasker.Mask(addr), url)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("appeals: %w", err)
	}
	return []*data.Frame{frameMeta(fr, sql)}, nil
}
