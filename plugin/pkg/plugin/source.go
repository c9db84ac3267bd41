package plugin

import (
	"time"
)

// countSource is where appeal counts come from: a SummingMergeTree rollup (always summed and grouped,
// since parts collapse lazily) or the raw appeals table joined with the current SLA status.
type countSource struct {
	table          string        // appeal_counts_1d | _1h | _1m | appeals
	timeCol        string        // window_start | event_time
	gran           time.Duration // window size; 0 for raw rows
	hasThemeAgency bool
	raw            bool
	joinStatus     bool // raw only: statuses are filtered, so the SLA join is needed
}

// statusExpr is an appeal's current status: appeal_sla's latest row (FINAL), "new" when it has none yet.
// The LEFT JOIN leaves sla_status empty for appeals without an appeal_sla row (join_use_nulls = 0).
const statusExpr = "if(sla_status = '', 'new', sla_status)"

var rollups = []countSource{
	{table: "appeal_counts_1d", timeCol: "window_start", gran: 24 * time.Hour, hasThemeAgency: true},
	{table: "appeal_counts_1h", timeCol: "window_start", gran: time.Hour, hasThemeAgency: true},
	{table: "appeal_counts_1m", timeCol: "window_start", gran: time.Minute},
}

var rawSource = countSource{table: "appeals", timeCol: "event_time", hasThemeAgency: true, raw: true}

// minWindowsForWidening: a range this many windows long (or longer) may be widened to whole windows; the
// edge error is then at most 2/7 of one window per edge, which suits planning-scale ranges. Shorter,
// unaligned ranges go to a finer rollup or the raw table so that small ranges stay exact.
const minWindowsForWidening = 7

// pickSource chooses the coarsest count source that can answer: a status filter forces the raw table
// (status lives in appeal_sla); theme/agency filters or dimensions rule out the 1-minute rollup; a
// series step must be a whole number of windows. It returns the source and the range widened to it.
func pickSource(f Filters, needThemeAgency bool, from, to time.Time, step time.Duration) (countSource, time.Time, time.Time) {
	if len(f.Statuses) > 0 {
		s := rawSource
		s.joinStatus = true
		return s, from, to
	}
	needThemeAgency = needThemeAgency || len(f.Themes) > 0 || len(f.Agencies) > 0
	for _, r := range rollups {
		if needThemeAgency && !r.hasThemeAgency {
			continue
		}
		if step > 0 && (step < r.gran || step%r.gran != 0) {
			continue
		}
		aligned := from.Equal(floorTime(from, r.gran)) && to.Equal(floorTime(to, r.gran))
		if aligned || to.Sub(from) >= minWindowsForWidening*r.gran {
			return r, floorTime(from, r.gran), ceilTime(to, r.gran)
		}
	}
	return rawSource, from, to
}

// floorTime rounds down to a multiple of d since the Unix epoch: the same arithmetic as the rollups'
// window_start on a UTC server (see docs: the ClickHouse server timezone must be UTC).
func floorTime(t time.Time, d time.Duration) time.Time {
	s := int64(d / time.Second)
	u := t.Unix()
	return time.Unix(u-((u%s)+s)%s, 0).UTC()
}

func ceilTime(t time.Time, d time.Duration) time.Time {
	if f := floorTime(t, d); !f.Equal(t) {
		return f.Add(d)
	}
	return t.UTC()
}

// from is the FROM clause with its own bound arguments (the SLA subquery is scoped to the regions).
func (s countSource) from(f Filters, region string) (string, []any) {
	if !s.joinStatus {
		return s.table, nil
	}
	return "appeals ANY LEFT JOIN (SELECT appeal_id, status AS sla_status FROM appeal_sla FINAL WHERE region IN ?) USING appeal_id",
		[]any{set(f.regions(region))}
}

// measureCol is the per-row amount to sum for a measure.
func (s countSource) measureCol(measure string) string {
	switch {
	case s.raw && measure == MeasureVoices:
		return "toUInt64(1)"
	case s.raw:
		return "toUInt64(is_incident)"
	case measure == MeasureVoices:
		return "voices"
	default:
		return "incidents"
	}
}
