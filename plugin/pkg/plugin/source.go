package plugin

import (
	"strings"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
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
	// narrow: instead of table, read the narrow rollups (0005): whole calendar months inside a segment
	// from appeal_counts_1mo, the partial months at its edges from appeal_counts_oktmo_1d.
	narrow   bool
	segments [][2]time.Time
	// loc is the region's calendar the day and month rollups are cut in (their windows start at its local
	// midnights, migration 0012); pickSource sets it.
	loc *time.Location
}

// zone is the calendar of the source's windows; UTC for a source built without pickSource.
func (s countSource) zone() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
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
func pickSource(f Filters, needThemeAgency bool, from, to time.Time, step time.Duration, loc *time.Location) (countSource, time.Time, time.Time) {
	if len(f.Statuses) > 0 {
		s := rawSource
		s.joinStatus, s.loc = true, loc
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
		aligned := from.Equal(floorTime(from, r.gran, loc)) && to.Equal(floorTime(to, r.gran, loc))
		if aligned || to.Sub(from) >= minWindowsForWidening*r.gran {
			r.loc = loc
			return r, floorTime(from, r.gran, loc), ceilTime(to, r.gran, loc)
		}
	}
	s := rawSource
	s.loc = loc
	return s, from, to
}

// floorTime rounds down to a multiple of d counted from the local midnights of loc: the same arithmetic as
// the rollups' window_start (day windows shift by the zone's offset, 0012; minute and hour windows are the
// UTC ones for whole-hour offsets; the ClickHouse server's own zone must be UTC, see docs).
func floorTime(t time.Time, d time.Duration, loc *time.Location) time.Time {
	return model.Floor(t, d, loc)
}

func ceilTime(t time.Time, d time.Duration, loc *time.Location) time.Time {
	if f := floorTime(t, d, loc); !f.Equal(t) {
		return f.Add(d)
	}
	return t.UTC()
}

// Narrow rollups (0005): no theme/agency, so they answer only queries that neither filter nor group by
// them, and only for whole days (they replace appeal_counts_1d).
const (
	monthTable     = "appeal_counts_1mo"
	narrowDayTable = "appeal_counts_oktmo_1d"
)

// narrowed swaps appeal_counts_1d for the narrow rollups when the query needs no theme or agency. segs
// are disjoint day-aligned [from, to) segments covering exactly the rows the query reads; every cut the
// query makes (sumIf at a boundary, a month it groups by) must be a segment boundary, because a monthly
// row is only read when its whole month lies inside one segment. The result is the same rows, summed,
// as appeal_counts_1d gives for the same days: exact, and far fewer rows for long ranges.
func (s countSource) narrowed(f Filters, needThemeAgency bool, segs ...[2]time.Time) countSource {
	if s.table != "appeal_counts_1d" || needThemeAgency || len(f.Themes) > 0 || len(f.Agencies) > 0 || len(f.Statuses) > 0 {
		return s
	}
	for _, g := range segs {
		if !g[0].Equal(floorTime(g[0], 24*time.Hour, s.zone())) || !g[1].Equal(floorTime(g[1], 24*time.Hour, s.zone())) {
			return s
		}
	}
	s.table = monthTable + "+" + narrowDayTable
	s.narrow, s.hasThemeAgency, s.segments = true, false, segs
	return s
}

// floorMonth is the first instant of t's month in loc: appeal_counts_1mo's window_start.
func floorMonth(t time.Time, loc *time.Location) time.Time { return model.LocalMonth(t, loc) }

func ceilMonth(t time.Time, loc *time.Location) time.Time {
	if f := floorMonth(t, loc); !f.Equal(t) {
		return model.LocalMonth(f.Add(32*24*time.Hour), loc)
	}
	return t.UTC()
}

// splitMonths splits day-aligned segments into whole calendar months of loc and the days left at their
// edges.
func splitMonths(segs [][2]time.Time, loc *time.Location) (months, days [][2]time.Time) {
	for _, g := range segs {
		a, b := g[0].UTC(), g[1].UTC()
		if !a.Before(b) {
			continue
		}
		ma, mb := ceilMonth(a, loc), floorMonth(b, loc)
		if !ma.Before(mb) {
			days = append(days, [2]time.Time{a, b})
			continue
		}
		months = append(months, [2]time.Time{ma, mb})
		if a.Before(ma) {
			days = append(days, [2]time.Time{a, ma})
		}
		if mb.Before(b) {
			days = append(days, [2]time.Time{mb, b})
		}
	}
	return months, days
}

// narrowFrom is the UNION ALL of both narrow rollups, each filtered inside (an older server does not push
// the outer WHERE into a UNION) and restricted to its own windows.
func (s countSource) narrowFrom(f Filters, region string) (string, []any) {
	months, days := splitMonths(s.segments, s.zone())
	var parts []string
	var args []any
	branch := func(table string, ranges [][2]time.Time) {
		var w where
		f.countFilters(&w, countSource{}, region)
		conds := make([]string, len(ranges))
		for i, r := range ranges {
			conds[i] = "(window_start >= toDateTime(?) AND window_start < toDateTime(?))"
			w.args = append(w.args, r[0].Unix(), r[1].Unix())
		}
		w.conds = append(w.conds, "("+strings.Join(conds, " OR ")+")")
		parts = append(parts, "SELECT window_start, region, oktmo, category, source, incidents, voices FROM "+table+w.sql())
		args = append(args, w.args...)
	}
	if len(months) > 0 {
		branch(monthTable, months)
	}
	if len(days) > 0 || len(months) == 0 {
		if len(days) == 0 { // empty range: a branch that reads nothing keeps the SQL valid
			days = [][2]time.Time{{time.Unix(0, 0), time.Unix(0, 0)}}
		}
		branch(narrowDayTable, days)
	}
	return "(" + strings.Join(parts, " UNION ALL ") + ")", args
}

// from is the FROM clause with its own bound arguments (the SLA subquery is scoped to the regions).
func (s countSource) from(f Filters, region string) (string, []any) {
	if s.narrow {
		return s.narrowFrom(f, region)
	}
	if !s.joinStatus {
		return s.table, nil
	}
	// GLOBAL: on a cluster of several shards both tables are Distributed, sharded by different keys, and
	// ClickHouse refuses a plain JOIN between them; GLOBAL sends the subquery's rows to every shard.
	return "appeals GLOBAL ANY LEFT JOIN (SELECT appeal_id, status AS sla_status FROM appeal_sla FINAL WHERE region IN ?) USING appeal_id",
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
