package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

var topKeyCol = map[string]string{ByCategory: "category", ByTheme: "theme", ByAgency: "agency", ByMunicipality: "oktmo"}

// top ranks one dimension over the range. All groups are read (there are at most a few hundred) so the
// share is of the whole range, not of the shown rows.
func (d *Datasource) top(ctx context.Context, r request) ([]*data.Frame, error) {
	needThemeAgency := r.Dimension == ByTheme || r.Dimension == ByAgency
	src, from, to := pickSource(r.Filters, needThemeAgency, r.from, r.to, 0, d.cfg.Location())
	src = src.narrowed(r.Filters, needThemeAgency, [2]time.Time{from, to})
	var w where
	r.Filters.countFilters(&w, src, d.cfg.Region)
	w.timeRange(src.timeCol, from, to)
	fromSQL, args := src.from(r.Filters, d.cfg.Region)
	sql := fmt.Sprintf("SELECT %s AS k, sum(%s) AS v FROM %s%s GROUP BY k HAVING v > 0 ORDER BY v DESC, k",
		topKeyCol[r.Dimension], src.measureCol(r.Measure), fromSQL, w.sql())
	args = append(args, w.args...)
	rows, err := d.ch.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("top: %w", err)
	}
	defer rows.Close()
	var keys []string
	var vals []uint64
	var total uint64
	for rows.Next() {
		var k string
		var v uint64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("top: %w", err)
		}
		keys, vals, total = append(keys, k), append(vals, v), total+v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("top: %w", err)
	}
	f := data.NewFrame("top",
		data.NewField("key", nil, []string{}),
		data.NewField("name", nil, []string{}),
		data.NewField(r.Measure, nil, []int64{}),
		data.NewField("share", nil, []float64{}),
	)
	for i := 0; i < len(keys) && i < r.Limit; i++ {
		name := keys[i]
		if r.Dimension == ByMunicipality || name == "" {
			name = d.munName(keys[i])
		}
		f.AppendRow(keys[i], name, int64(vals[i]), float64(vals[i])*100/float64(total))
	}
	f.Fields[3].Config = &data.FieldConfig{Unit: "percent", Decimals: ptr(uint16(1))}
	return []*data.Frame{frameMeta(f, sql)}, nil
}
