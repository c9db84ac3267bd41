package plugin

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// where collects conditions and their bound arguments. Columns come from code, never from a request;
// every value is a `?` parameter (clickhouse-go escapes it, and binds slices for IN).
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) in(col string, vals []string) {
	if len(vals) > 0 {
		w.add(col+" IN ?", set(vals))
	}
}

// set binds a list as a parenthesised tuple, ('a', 'b'): clickhouse-go renders a plain slice as an array
// literal, which 18.16 rejects on the right of IN. Every element is still quoted and escaped by the driver.
func set(vals []string) clickhouse.GroupSet {
	g := clickhouse.GroupSet{Value: make([]any, len(vals))}
	for i, v := range vals {
		g.Value[i] = v
	}
	return g
}

// timeRange adds from <= col < to; times go as Unix seconds so no timezone is guessed in the SQL text.
func (w *where) timeRange(col string, from, to time.Time) {
	w.add(col+" >= toDateTime(?) AND "+col+" < toDateTime(?)", from.Unix(), to.Unix())
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// regions is the region scope of every query: the datasource's region. A request's regions may narrow
// it, never leave it: naming the datasource's region keeps it, naming only other regions leaves a scope
// no row is in (noRegion). A datasource is bound to one region — its region is the boundary a Grafana
// organisation was given, and filters and variables come from anyone who can edit a dashboard.
func (f Filters) regions(def string) []string {
	if len(f.Regions) == 0 || slices.Contains(f.Regions, def) {
		return []string{def}
	}
	return []string{noRegion}
}

// noRegion is in no row: every stored appeal has a region code.
const noRegion = ""

// outsideRegion names a request's regions outside the datasource's region (queries answer it as an
// error, so a dashboard says why it is empty).
func (f Filters) outsideRegion(def string) error {
	var out []string
	for _, r := range f.Regions {
		if r != def {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return fmt.Errorf("regions %q are outside this datasource's region %s: a query may narrow inside it, never leave it", out, def)
}

// countFilters adds the filters a count source can evaluate. Theme and agency exist on the raw table and
// the 1h/1d rollups only; status only via the SLA join, so pickSource never hands those to a table that
// lacks them.
func (f Filters) countFilters(w *where, src countSource, region string) {
	w.in("region", f.regions(region))
	w.in("oktmo", f.Municipalities)
	w.in("category", f.Categories)
	w.in("source", f.Sources)
	if src.hasThemeAgency {
		w.in("theme", f.Themes)
		w.in("agency", f.Agencies)
	}
	if src.raw {
		w.in(statusExpr, f.Statuses)
	}
}
