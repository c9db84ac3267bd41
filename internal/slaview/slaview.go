// Package slaview prints the SLA block of `teplokarta run`'s terminal view: open incidents, those at
// risk and overdue now, the on-time share of today's appeals and the agencies with the most overdue
// incidents, read back from ClickHouse's appeal_sla (what the SLA engine recorded), like the heat table.
package slaview

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/model"
)

// Config of the view.
type Config struct {
	AtRisk   time.Duration  // "at risk": open with less than this left; default 1h
	Lookback time.Duration  // appeals received this long before now are considered; default 30 days
	Top      int            // agencies listed; default 10
	Location *time.Location // where "today" starts; default the default region's zone (model.RegionZones: Moscow)
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{AtRisk: time.Hour, Lookback: 30 * 24 * time.Hour, Top: 10, Location: model.RegionLocation(model.DefaultRegion)}
}

// View is one snapshot.
type View struct {
	Now     time.Time
	Open    uint64 // not resolved
	AtRisk  uint64 // open, deadline within Config.AtRisk from now
	Overdue uint64 // open, deadline passed
	// Today: appeals received since local midnight. Their on-time share, as in the SLA rollups, is
	// resolved on time / (resolved + open overdue).
	TodayReceived, TodayResolved, TodayOnTime, TodayOverdue uint64
	Agencies                                                []Agency // most overdue first
}

// Agency is one agency's overdue incidents.
type Agency struct {
	Name    string
	Overdue uint64
	Open    uint64
}

// OnTimeShare of today's appeals; ok is false while none is decided.
func (v View) OnTimeShare() (share float64, ok bool) {
	d := v.TodayResolved + v.TodayOverdue
	if d == 0 {
		return 0, false
	}
	return float64(v.TodayOnTime) / float64(d), true
}

// Query reads the view as of now (the run's clock, which may be a scaled one).
func Query(ctx context.Context, conn driver.Conn, cfg Config, now time.Time) (View, error) {
	now = now.UTC().Truncate(time.Second)
	loc := now.In(cfg.Location)
	midnight := time.Date(loc.Year(), loc.Month(), loc.Day(), 0, 0, 0, 0, cfg.Location).UTC()
	v := View{Now: now}
	// One FINAL scan for the totals; DateTime parameters are bound as such on 18.16 and 25.8.
	err := conn.QueryRow(ctx, `SELECT
			countIf(status != 'resolved'),
			countIf(status != 'resolved' AND deadline >= ? AND deadline < ?),
			countIf(status != 'resolved' AND deadline < ?),
			countIf(received_time >= ?),
			countIf(received_time >= ? AND status = 'resolved'),
			countIf(received_time >= ? AND status = 'resolved' AND resolved_time <= deadline),
			countIf(received_time >= ? AND status != 'resolved' AND deadline < ?)
		FROM appeal_sla FINAL WHERE received_time >= ?`,
		now, now.Add(cfg.AtRisk), now, midnight, midnight, midnight, midnight, now, now.Add(-cfg.Lookback)).
		Scan(&v.Open, &v.AtRisk, &v.Overdue, &v.TodayReceived, &v.TodayResolved, &v.TodayOnTime, &v.TodayOverdue)
	if err != nil {
		return View{}, fmt.Errorf("sla view: totals: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT agency, countIf(deadline < ?) AS overdue, count()
		FROM appeal_sla FINAL WHERE received_time >= ? AND status != 'resolved'
		GROUP BY agency HAVING overdue > 0 ORDER BY overdue DESC, agency LIMIT ?`,
		now, now.Add(-cfg.Lookback), cfg.Top)
	if err != nil {
		return View{}, fmt.Errorf("sla view: agencies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a Agency
		if err := rows.Scan(&a.Name, &a.Overdue, &a.Open); err != nil {
			return View{}, fmt.Errorf("sla view: agencies: %w", err)
		}
		v.Agencies = append(v.Agencies, a)
	}
	return v, rows.Err()
}

// Render writes the block.
func (v View) Render(w io.Writer, loc *time.Location) error {
	share := "—"
	if s, ok := v.OnTimeShare(); ok {
		share = fmt.Sprintf("%.0f%% (%d из %d)", 100*s, v.TodayOnTime, v.TodayResolved+v.TodayOverdue)
	}
	fmt.Fprintf(w, "\nСроки (SLA) на %s МСК: открыто %d, под угрозой (< 1 ч) %d, просрочено сейчас %d; в срок сегодня: %s\n",
		v.Now.In(loc).Format("02.01 15:04"), v.Open, v.AtRisk, v.Overdue, share)
	if len(v.Agencies) == 0 {
		_, err := fmt.Fprintln(w, "просроченных нет")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ведомство\tпросрочено\tоткрыто\t")
	for _, a := range v.Agencies {
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", Short(a.Name, 36), a.Overdue, a.Open)
	}
	return tw.Flush()
}

// shorten are the abbreviations of official Russian agency names, applied in order.
var shorten = strings.NewReplacer(
	"Администрация муниципального образования - городской округ город ", "Адм. г.о. ",
	"Администрация города ", "Адм. г. ",
	"Администрация ", "Адм. ",
	" муниципального района", " р-на",
	" Рязанской области", "",
	"Министерство ", "Мин. ",
	"Управление ", "Упр. ",
	"Префектура ", "Преф. ",
	"Государственная инспекция", "Госинспекция",
	"жилищно-коммунального хозяйства", "ЖКХ",
	"Фонд капитального ремонта многоквартирных домов", "Фонд капремонта МКД",
	"капитального строительства", "капстроительства",
)

// Short abbreviates an agency name to at most n runes ("у кураторов" for an appeal without one).
func Short(name string, n int) string {
	if name == "" {
		return "у кураторов"
	}
	s := strings.Join(strings.Fields(shorten.Replace(name)), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
