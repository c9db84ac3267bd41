// Package report reads SLA analytics from ClickHouse: compliance rollups by agency, municipality,
// category, source or day, and the curators' list of overdue and at-risk appeals. All SQL runs on
// ClickHouse 18.16 and 25.8 (ANY LEFT JOIN … USING, quantileIf, FINAL).
package report

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/model"
)

// Dimension is what a rollup groups by.
type Dimension string

// Dimensions.
const (
	ByAgency       Dimension = "agency"
	ByMunicipality Dimension = "municipality"
	ByCategory     Dimension = "category"
	BySource       Dimension = "source"
	ByDay          Dimension = "day" // day of receipt on the region's calendar (YYYY-MM-DD)
)

var keyExpr = map[Dimension]string{
	ByAgency: "agency", ByMunicipality: "if(municipality = '', oktmo, municipality)", ByCategory: "category",
	BySource: "source", ByDay: "toString(toDate(received_time, '%s'))",
}

// zoneRe: ClickHouse takes a time zone only as a constant, so the name is spliced into the SQL.
var zoneRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$`)

// Row is one rollup group.
type Row struct {
	Key            string
	Received       uint64
	Resolved       uint64
	ResolvedOnTime uint64
	OverdueOpen    uint64        // open and past the deadline now
	Median, P90    time.Duration // time to resolve, of resolved appeals
}

// OnTimeShare is resolved on time / (resolved + open overdue): an appeal left open past its deadline
// counts as a failure now, not only once someone closes it. NaN-free: 0 when nothing is decided yet.
func (r Row) OnTimeShare() float64 {
	if d := r.Resolved + r.OverdueOpen; d > 0 {
		return float64(r.ResolvedOnTime) / float64(d)
	}
	return 0
}

// current is appeal_sla's latest version of each appeal with its extra columns.
const current = `(SELECT appeal_id, region, oktmo, category, source, agency, status, received_time, deadline,
		resolved_time, breached FROM appeal_sla FINAL WHERE received_time >= ?)
	ANY LEFT JOIN (SELECT appeal_id, municipality, theme FROM appeal_sla_extra FINAL) USING appeal_id`

// Rollup groups appeals received since `since` by dim, as of now; days are the default region's
// (Europe/Moscow: an appeal received at 00:30 MSK on 1 January is in 1 January, not in 31 December).
func Rollup(ctx context.Context, ch driver.Conn, dim Dimension, since, now time.Time) ([]Row, error) {
	return RollupIn(ctx, ch, dim, since, now, model.RegionLocation(model.DefaultRegion))
}

// RollupIn is Rollup with the days of loc's calendar.
func RollupIn(ctx context.Context, ch driver.Conn, dim Dimension, since, now time.Time, loc *time.Location) ([]Row, error) {
	key, ok := keyExpr[dim]
	if !ok {
		return nil, fmt.Errorf("report: unknown dimension %q", dim)
	}
	if dim == ByDay {
		if !zoneRe.MatchString(loc.String()) {
			return nil, fmt.Errorf("report: time zone %q is not an IANA name", loc.String())
		}
		key = fmt.Sprintf(key, loc.String())
	}
	q := `SELECT ` + key + ` AS k, count(), countIf(status = 'resolved'),
		countIf(status = 'resolved' AND resolved_time <= deadline),
		countIf(status != 'resolved' AND deadline < ?),
		quantileIf(0.5)(toInt64(toUInt32(resolved_time)) - toInt64(toUInt32(received_time)), status = 'resolved'),
		quantileIf(0.9)(toInt64(toUInt32(resolved_time)) - toInt64(toUInt32(received_time)), status = 'resolved')
		FROM ` + current + ` GROUP BY k ORDER BY k`
	rows, err := ch.Query(ctx, q, now.UTC(), since.UTC())
	if err != nil {
		return nil, fmt.Errorf("report: rollup by %s: %w", dim, err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var med, p90 float64
		if err := rows.Scan(&r.Key, &r.Received, &r.Resolved, &r.ResolvedOnTime, &r.OverdueOpen, &med, &p90); err != nil {
			return nil, fmt.Errorf("report: rollup by %s: %w", dim, err)
		}
		if r.Resolved > 0 {
			r.Median, r.P90 = time.Duration(med*float64(time.Second)), time.Duration(p90*float64(time.Second))
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Item is one appeal of the curators' report.
type Item struct {
	AppealID, Agency, Status, Category, Source, Municipality string
	Deadline                                                 time.Time
}

// Agency groups an agency's overdue and at-risk appeals ("" = with the curators).
type Agency struct {
	Agency  string
	Overdue []Item
	AtRisk  []Item
}

// Curators lists open appeals received since `since` that are overdue, or due within lead, by agency.
func Curators(ctx context.Context, ch driver.Conn, since, now time.Time, lead time.Duration) ([]Agency, error) {
	q := `SELECT appeal_id, agency, status, category, source, municipality, deadline FROM ` + current + `
		WHERE status != 'resolved' AND deadline <= ? ORDER BY agency, deadline, appeal_id`
	rows, err := ch.Query(ctx, q, since.UTC(), now.Add(lead).UTC())
	if err != nil {
		return nil, fmt.Errorf("report: overdue appeals: %w", err)
	}
	defer rows.Close()
	var out []Agency
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.AppealID, &it.Agency, &it.Status, &it.Category, &it.Source, &it.Municipality, &it.Deadline); err != nil {
			return nil, fmt.Errorf("report: overdue appeals: %w", err)
		}
		it.Deadline = it.Deadline.UTC()
		if len(out) == 0 || out[len(out)-1].Agency != it.Agency {
			out = append(out, Agency{Agency: it.Agency})
		}
		a := &out[len(out)-1]
		if it.Deadline.Before(now) {
			a.Overdue = append(a.Overdue, it)
		} else {
			a.AtRisk = append(a.AtRisk, it)
		}
	}
	return out, rows.Err()
}
