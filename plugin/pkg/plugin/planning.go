package plugin

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

var planningKeyCol = map[string]string{ByMunicipality: "oktmo", ByCategory: "category", ByNone: "''"}

type planKey struct {
	period int // yyyymm (monthly) or yyyy (yearly)
	key    string
}

type planVal struct{ cur, prev uint64 }

// planning returns monthly and yearly totals with the change against the same period a year earlier.
// "Same period" is exact: a row counts as current when it falls in [from, to) and as last year's when
// it falls in [from−1y, to−1y), so a partial month or year is compared with the same days of last year.
func (d *Datasource) planning(ctx context.Context, r request) ([]*data.Frame, error) {
	loc := d.cfg.Location()
	src, from, to := pickSource(r.Filters, false, r.from, r.to, 0, loc)
	// A year earlier on the region's calendar, and months and years cut at its midnights: in UTC,
	// `now-1y/y` in Moscow began at 21:00 on 31 December and gained a ghost row of the previous year.
	prevFrom, prevTo := from.In(loc).AddDate(-1, 0, 0).UTC(), to.In(loc).AddDate(-1, 0, 0).UTC()
	// Segments cut at every boundary the sums use (cur from `from`, prev until prevTo), so that no
	// monthly row straddles one; a range longer than a year overlaps itself and is cut in three.
	if prevTo.After(from) {
		src = src.narrowed(r.Filters, false, [2]time.Time{prevFrom, from}, [2]time.Time{from, prevTo}, [2]time.Time{prevTo, to})
	} else {
		src = src.narrowed(r.Filters, false, [2]time.Time{prevFrom, prevTo}, [2]time.Time{from, to})
	}
	var w where
	r.Filters.countFilters(&w, src, d.cfg.Region)
	w.timeRange(src.timeCol, prevFrom, to)
	w.add(fmt.Sprintf("(%[1]s >= toDateTime(?) OR %[1]s < toDateTime(?))", src.timeCol), from.Unix(), prevTo.Unix())
	fromSQL, args := src.from(r.Filters, d.cfg.Region)
	col := src.measureCol(r.Measure)
	sql := fmt.Sprintf(`SELECT toUInt32(toYYYYMM(%[1]s, '%[6]s')) AS m, %[2]s AS k, sumIf(%[3]s, %[1]s >= toDateTime(?)) AS cur, sumIf(%[3]s, %[1]s < toDateTime(?)) AS prev
FROM %[4]s%[5]s GROUP BY m, k`, src.timeCol, planningKeyCol[r.GroupBy], col, fromSQL, w.sql(), d.cfg.Timezone)
	args = append([]any{from.Unix(), prevTo.Unix()}, append(args, w.args...)...)
	rows, err := d.ch.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("planning: %w", err)
	}
	defer rows.Close()
	monthly, yearly := map[planKey]*planVal{}, map[planKey]*planVal{}
	add := func(m map[planKey]*planVal, k planKey, cur, prev uint64) {
		v := m[k]
		if v == nil {
			v = &planVal{}
			m[k] = v
		}
		v.cur += cur
		v.prev += prev
	}
	for rows.Next() {
		var ym uint32
		var k string
		var cur, prev uint64
		if err := rows.Scan(&ym, &k, &cur, &prev); err != nil {
			return nil, fmt.Errorf("planning: %w", err)
		}
		// Last year's rows are reported against the month a year later, the one they are compared with.
		if cur > 0 {
			add(monthly, planKey{int(ym), k}, cur, 0)
			add(yearly, planKey{int(ym) / 100, k}, cur, 0)
		}
		if prev > 0 {
			add(monthly, planKey{int(ym) + 100, k}, 0, prev)
			add(yearly, planKey{int(ym)/100 + 1, k}, 0, prev)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("planning: %w", err)
	}
	mf := d.planFrame("monthly", "month", r, monthly, func(p int) any {
		return time.Date(p/100, time.Month(p%100), 1, 0, 0, 0, 0, loc).UTC()
	})
	yf := d.planFrame("yearly", "year", r, yearly, func(p int) any { return int64(p) })
	return []*data.Frame{frameMeta(mf, sql), frameMeta(yf, sql)}, nil
}

func (d *Datasource) planFrame(name, periodField string, r request, vals map[planKey]*planVal, period func(int) any) *data.Frame {
	keys := make([]planKey, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].period != keys[j].period {
			return keys[i].period < keys[j].period
		}
		return keys[i].key < keys[j].key
	})
	var pf *data.Field
	if periodField == "month" {
		pf = data.NewField("month", nil, []time.Time{})
	} else {
		pf = data.NewField("year", nil, []int64{})
	}
	f := data.NewFrame(name, pf,
		data.NewField("key", nil, []string{}),
		data.NewField("name", nil, []string{}),
		data.NewField(r.Measure, nil, []int64{}),
		data.NewField("prev_year", nil, []int64{}),
		data.NewField("yoy_pct", nil, []*float64{}),
	)
	for _, k := range keys {
		v := vals[k]
		var yoy *float64
		if v.prev > 0 {
			yoy = ptr((float64(v.cur) - float64(v.prev)) * 100 / float64(v.prev))
		}
		f.AppendRow(period(k.period), k.key, d.planName(r.GroupBy, k.key), int64(v.cur), int64(v.prev), yoy)
	}
	f.Fields[5].Config = &data.FieldConfig{DisplayName: "Изменение к прошлому году", Unit: "percent", Decimals: ptr(uint16(1))}
	return f
}

func (d *Datasource) planName(groupBy, key string) string {
	switch {
	case groupBy == ByNone:
		return "Всего"
	case groupBy == ByMunicipality || key == "":
		return d.munName(key)
	}
	return key
}
