package plugin

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// heatIndex compares a period with the municipality's own recent past: observed appeals against those
// expected at the baseline's daily rate, both smoothed by +1 so that quiet places do not swing from 0 to
// infinity. 1.0 = usual, 2.0 = twice the usual rate; Рязань is not red just for being large.
func heatIndex(observed, baseline uint64, periodDays, baselineDays float64) float64 {
	expected := float64(baseline) * periodDays / baselineDays
	return (float64(observed) + 1) / (expected + 1)
}

// heatCounts is one municipality's sums: cur/base of the query's measure (the heat index's inputs), and for
// the choropleth's tooltip the range's incidents and voices regardless of the measure, and the measure per
// category in the range.
type heatCounts struct {
	cur, base         uint64
	incidents, voices uint64
	cats              map[string]uint64
}

func (c *heatCounts) add(category string, cur, base, inc, voi uint64) {
	c.cur, c.base, c.incidents, c.voices = c.cur+cur, c.base+base, c.incidents+inc, c.voices+voi
	if cur > 0 {
		if c.cats == nil {
			c.cats = map[string]uint64{}
		}
		c.cats[category] += cur
	}
}

// topCategories is the range's three largest categories by the measure, "ЖКХ 6 · Дороги 3" (ties by name).
func (c heatCounts) topCategories() string {
	names := make([]string, 0, len(c.cats))
	for k := range c.cats {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if c.cats[names[i]] != c.cats[names[j]] {
			return c.cats[names[i]] > c.cats[names[j]]
		}
		return names[i] < names[j]
	})
	parts := make([]string, 0, 3)
	for i := 0; i < len(names) && i < 3; i++ {
		name := names[i]
		if name == "" {
			name = "без категории"
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, c.cats[names[i]]))
	}
	return strings.Join(parts, " · ")
}

func (d *Datasource) heatmap(ctx context.Context, r request) ([]*data.Frame, error) {
	src, from, to := pickSource(r.Filters, false, r.from, r.to, 0, d.cfg.Location())
	baseline := time.Duration(r.BaselineDays) * 24 * time.Hour
	baseFrom := from.Add(-baseline)
	// cur/base split at from: a month straddling it is read by day.
	src = src.narrowed(r.Filters, false, [2]time.Time{baseFrom, from}, [2]time.Time{from, to})

	var w where
	r.Filters.countFilters(&w, src, d.cfg.Region)
	w.timeRange(src.timeCol, baseFrom, to)
	fromSQL, args := src.from(r.Filters, d.cfg.Region)
	col := src.measureCol(r.Measure)
	// By category too: the choropleth's tooltip shows each municipality's top categories from the same read.
	sql := fmt.Sprintf("SELECT oktmo, category, sumIf(%[1]s, %[2]s >= toDateTime(?)) AS cur, sumIf(%[1]s, %[2]s < toDateTime(?)) AS base, "+
		"sumIf(%[5]s, %[2]s >= toDateTime(?)) AS cur_incidents, sumIf(%[6]s, %[2]s >= toDateTime(?)) AS cur_voices FROM %[3]s%[4]s GROUP BY oktmo, category",
		col, src.timeCol, fromSQL, w.sql(), src.measureCol(MeasureIncidents), src.measureCol(MeasureVoices))
	args = append([]any{from.Unix(), from.Unix(), from.Unix(), from.Unix()}, append(args, w.args...)...)

	rows, err := d.ch.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("heatmap: %w", err)
	}
	defer rows.Close()
	counts := map[string]heatCounts{}
	for rows.Next() {
		var oktmo, category string
		var cur, base, inc, voi uint64
		if err := rows.Scan(&oktmo, &category, &cur, &base, &inc, &voi); err != nil {
			return nil, fmt.Errorf("heatmap: %w", err)
		}
		c := counts[oktmo]
		c.add(category, cur, base, inc, voi)
		counts[oktmo] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("heatmap: %w", err)
	}

	periodDays := to.Sub(from).Hours() / 24
	baseDays := baseline.Hours() / 24
	muns := d.municipalities(r.Filters)
	if r.alert {
		return heatAlertFrames(muns, counts, periodDays, baseDays, d.munName), nil
	}
	f := data.NewFrame("heatmap",
		data.NewField("oktmo", nil, []string{}),
		data.NewField("municipality", nil, []string{}),
		data.NewField("latitude", nil, []float64{}),
		data.NewField("longitude", nil, []float64{}),
		data.NewField("population", nil, []*int64{}),
		data.NewField("appeals", nil, []int64{}),
		data.NewField("baseline", nil, []int64{}),
		data.NewField("per_10k", nil, []*float64{}),
		data.NewField("heat", nil, []float64{}),
		data.NewField("incidents", nil, []int64{}),
		data.NewField("voices", nil, []int64{}),
		data.NewField("top_categories", nil, []string{}),
	)
	for _, m := range muns {
		c := counts[m.OKTMO]
		var pop *int64
		var per *float64
		if m.Population > 0 {
			p := int64(m.Population)
			v := float64(c.cur) * 10000 / float64(m.Population)
			pop, per = &p, &v
		}
		f.AppendRow(m.OKTMO, m.DisplayName(), m.Lat, m.Lon, pop, int64(c.cur), int64(c.base), per,
			heatIndex(c.cur, c.base, periodDays, baseDays), int64(c.incidents), int64(c.voices), c.topCategories())
	}
	f.Fields[8].Config = &data.FieldConfig{DisplayName: "Индекс тепла", Decimals: ptr(uint16(2))}
	f.Fields[5].Config = &data.FieldConfig{DisplayName: "Обращения"}
	f.Fields[7].Config = &data.FieldConfig{DisplayName: "На 10 тыс. жителей", Decimals: ptr(uint16(2))}
	f.Fields[9].Config = &data.FieldConfig{DisplayName: "Инциденты"}
	f.Fields[10].Config = &data.FieldConfig{DisplayName: "Все обращения"}
	f.Fields[11].Config = &data.FieldConfig{DisplayName: "Топ категорий"}
	f = frameMeta(f, sql)
	// Appeals whose place was not resolved (empty OKTMO) have no row to sit in: the choropleth shows them
	// as a number beside the map.
	u := counts[""]
	f.Meta.Custom = map[string]any{"unknown": map[string]any{
		"municipality": d.munName(""), "appeals": u.cur, "incidents": u.incidents, "voices": u.voices,
	}}
	return []*data.Frame{f}, nil
}

// heatAlertFrames is the alerting shape: one single-number frame per municipality, labelled, so that
// each municipality is its own alert instance.
func heatAlertFrames(muns []muni, counts map[string]heatCounts, periodDays, baseDays float64, name func(string) string) []*data.Frame {
	out := make([]*data.Frame, 0, len(muns))
	for _, m := range muns {
		c := counts[m.OKTMO]
		labels := data.Labels{"oktmo": m.OKTMO, "municipality": name(m.OKTMO)}
		out = append(out, data.NewFrame("heat",
			data.NewField("heat", labels, []float64{heatIndex(c.cur, c.base, periodDays, baseDays)}),
		))
	}
	return out
}

func ptr[T any](v T) *T { return &v }
