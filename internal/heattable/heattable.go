// Package heattable prints the heat map in a terminal: the current window's appeals per municipality
// (Russian names) and category, read back from ClickHouse's rollups. It is what `make run` shows until
// Grafana is there.
package heattable

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/model"
)

// Table is one window's counts.
type Table struct {
	From, To   time.Time
	Location   *time.Location // the region's calendar: the printed times and the zone's abbreviation
	Categories []string       // columns, most frequent first
	Rows       []Row          // municipalities, most appeals first
	Total      uint64
	Incidents  uint64
}

// Row is one municipality.
type Row struct {
	OKTMO, Name string
	Appeals     uint64
	Incidents   uint64
	ByCategory  map[string]uint64
}

// CurrentHour is the hour window holding now on region's calendar (the UTC hour for whole-hour offsets).
func CurrentHour(now time.Time, region string) (from, to time.Time) {
	from = model.Floor(now, time.Hour, model.RegionLocation(region))
	return from, from.Add(time.Hour)
}

// Today is the region's day holding now: from its local midnight (for Ryazan 21:00 UTC) to the next.
func Today(now time.Time, region string) (from, to time.Time) {
	loc := model.RegionLocation(region)
	from = model.LocalDay(now, loc)
	return from, model.LocalDay(from.Add(36*time.Hour), loc) // the next midnight, whatever DST did
}

// Query reads the window [from, to) of one region from appeal_counts_1m (exact for any whole minutes).
func Query(ctx context.Context, conn driver.Conn, g *geo.Gazetteer, region string, from, to time.Time) (Table, error) {
	rows, err := conn.Query(ctx, `SELECT oktmo, category, sum(voices), sum(incidents) FROM appeal_counts_1m
		WHERE region = ? AND window_start >= ? AND window_start < ? GROUP BY oktmo, category`, region, from.UTC(), to.UTC())
	if err != nil {
		return Table{}, fmt.Errorf("heat table: %w", err)
	}
	defer rows.Close()
	t := Table{From: from, To: to, Location: model.RegionLocation(region)}
	byMun := map[string]*Row{}
	catTotal := map[string]uint64{}
	for rows.Next() {
		var oktmo, cat string
		var voices, incidents uint64
		if err := rows.Scan(&oktmo, &cat, &voices, &incidents); err != nil {
			return Table{}, err
		}
		r := byMun[oktmo]
		if r == nil {
			r = &Row{OKTMO: oktmo, Name: g.Name(oktmo), ByCategory: map[string]uint64{}}
			byMun[oktmo] = r
		}
		r.Appeals += voices
		r.Incidents += incidents
		r.ByCategory[cat] += voices
		catTotal[cat] += voices
		t.Total += voices
		t.Incidents += incidents
	}
	if err := rows.Err(); err != nil {
		return Table{}, err
	}
	for _, r := range byMun {
		t.Rows = append(t.Rows, *r)
	}
	sort.Slice(t.Rows, func(i, j int) bool {
		if t.Rows[i].Appeals != t.Rows[j].Appeals {
			return t.Rows[i].Appeals > t.Rows[j].Appeals
		}
		return t.Rows[i].OKTMO < t.Rows[j].OKTMO
	})
	for c := range catTotal {
		t.Categories = append(t.Categories, c)
	}
	sort.Slice(t.Categories, func(i, j int) bool {
		a, b := t.Categories[i], t.Categories[j]
		if catTotal[a] != catTotal[b] {
			return catTotal[a] > catTotal[b]
		}
		return a < b
	})
	return t, nil
}

// Render writes the table: at most maxCats category columns (the rest summed as «прочее»).
func (t Table) Render(w io.Writer, maxCats int) error {
	loc := t.Location
	if loc == nil {
		loc = model.RegionLocation(model.DefaultRegion)
	}
	fmt.Fprintf(w, "\nОбращения за окно %s–%s %s: %d (новых проблем %d), муниципалитетов: %d\n",
		t.From.In(loc).Format("02.01 15:04"), t.To.In(loc).Format("15:04"), zoneName(t.From.In(loc)), t.Total, t.Incidents, len(t.Rows))
	cats := t.Categories
	other := len(cats) > maxCats
	if other {
		cats = cats[:maxCats]
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.AlignRight)
	head := []string{"муниципалитет", "всего", "проблем"}
	for _, c := range cats {
		head = append(head, short(c, 12))
	}
	if other {
		head = append(head, "прочее")
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, r := range t.Rows {
		cells := []string{short(r.Name, 22), fmt.Sprint(r.Appeals), fmt.Sprint(r.Incidents)}
		var shown uint64
		for _, c := range cats {
			cells = append(cells, fmt.Sprint(r.ByCategory[c]))
			shown += r.ByCategory[c]
		}
		if other {
			cells = append(cells, fmt.Sprint(r.Appeals-shown))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	return tw.Flush()
}

// zoneName is the zone as the screen has always said it: МСК for Moscow time, else the zone's abbreviation
// or UTC offset.
func zoneName(t time.Time) string {
	if n, _ := t.Zone(); n != "MSK" {
		return n
	}
	return "МСК"
}

func short(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
