package plugin_test

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// edgeAppeals adds appeals on both sides of every boundary of the ranges TestNarrowRollupEdges asks for
// (2025-03-10 … 2025-06-20 with its 90-day baseline from 2024-12-10, and 2024-06-12 … 2025-06-20), so
// that a partial month read as a whole month, or a month straddling the cur/base cut, changes a number.
func edgeAppeals() []appeal {
	const zkh, roads = "ЖКХ", "Дороги"
	t := func(y int, m time.Month, d, h, mi, s int) time.Time { return time.Date(y, m, d, h, mi, s, 0, msk) }
	return []appeal{
		rya("e1", kasimov, zkh, "Отопление", gzhi, "vk", t(2025, 3, 9, 23, 59, 59)),
		rya("e2", kasimov, roads, "Ямы", mintrans, "112", t(2025, 3, 10, 0, 0, 0)),
		voice(rya("e2v", kasimov, roads, "Ямы", mintrans, "vk", t(2025, 3, 31, 23, 59, 59)), "e2"),
		rya("e3", shilovo, zkh, "Отопление", gzhi, "pos", t(2025, 6, 19, 23, 59, 59)),
		rya("e4", shilovo, zkh, "Отопление", gzhi, "vk", t(2025, 6, 20, 0, 0, 0)),
		rya("e5", ryazan, zkh, "Отопление", gzhi, "vk", t(2024, 12, 9, 23, 59, 59)),
		rya("e6", ryazan, zkh, "Отопление", gzhi, "nashdom", t(2024, 12, 10, 0, 0, 0)),
		rya("e7", kasimov, roads, "Ямы", mintrans, "vk", t(2025, 4, 1, 0, 0, 0)),
		rya("e8", kasimov, zkh, "Отопление", gzhi, "112", t(2025, 2, 28, 23, 59, 59)),
		rya("e9", ryazan, roads, "Ямы", mintrans, "pos", t(2025, 1, 1, 0, 0, 0)),
		rya("e10", ryazan, zkh, "Вывоз мусора", gzhi, "vk", t(2024, 12, 31, 23, 59, 59)),
		rya("e11", ryazan, zkh, "Отопление", gzhi, "vk", t(2024, 6, 11, 23, 59, 59)),
		rya("e12", shilovo, roads, "Ямы", mintrans, "112", t(2024, 6, 12, 0, 0, 0)),
		rya("e13", shilovo, roads, "Ямы", mintrans, "112", t(2024, 6, 19, 23, 59, 59)),
		voice(rya("e13v", shilovo, roads, "Ямы", mintrans, "vk", t(2024, 6, 20, 0, 0, 0)), "e13"),
	}
}

// oracle counts the seeded appeals directly (no ClickHouse): what an exact answer is, and what the
// appeal_counts_1d path returned for these day-aligned ranges before the narrow rollups existed.
type oracle struct {
	all     []appeal
	voices  bool
	sources []string
	cats    []string
	oktmos  []string
	themes  []string
}

func (o oracle) each(from, to time.Time, fn func(a appeal, n int64)) {
	for _, a := range o.all {
		if a.region != "RU-RYA" || a.at.Before(from) || !a.at.Before(to) {
			continue
		}
		if (len(o.sources) > 0 && !slices.Contains(o.sources, a.source)) ||
			(len(o.cats) > 0 && !slices.Contains(o.cats, a.category)) ||
			(len(o.oktmos) > 0 && !slices.Contains(o.oktmos, a.oktmo)) ||
			(len(o.themes) > 0 && !slices.Contains(o.themes, a.theme)) {
			continue
		}
		if a.voiceOf == "" || o.voices {
			fn(a, 1)
		}
	}
}

func executed(f *data.Frame) string {
	if f.Meta == nil {
		return ""
	}
	return f.Meta.ExecutedQueryString
}

func TestNarrowRollupEdges(t *testing.T) {
	h := newHarness(t, true, nil)
	insertAppeals(t, h.conn, edgeAppeals())
	all := append(seedAppeals(), edgeAppeals()...)
	from, to := day(3, 10, 0, 0), day(6, 20, 0, 0) // partial March and June, whole April and May
	baseFrom := from.AddDate(0, 0, -90)            // 2024-12-10: partial December, whole January, February
	periodDays := to.Sub(from).Hours() / 24

	narrowSQL := func(t *testing.T, f *data.Frame, want bool) {
		t.Helper()
		sql := executed(f)
		got := strings.Contains(sql, "appeal_counts_1mo") && strings.Contains(sql, "appeal_counts_oktmo_1d")
		if got != want || (want && strings.Contains(sql, "appeal_counts_1d ")) {
			t.Fatalf("narrow rollups used = %v, want %v: %s", got, want, sql)
		}
	}

	heatCases := []struct {
		name   string
		model  q
		o      oracle
		narrow bool
	}{
		{"incidents", q{"queryType": "heatmap"}, oracle{}, true},
		{"voices of two sources", q{"queryType": "heatmap", "measure": "voices", "filters": q{"sources": []string{"vk", "112"}}},
			oracle{voices: true, sources: []string{"vk", "112"}}, true},
		{"category and municipalities", q{"queryType": "heatmap", "filters": q{"categories": []string{"Дороги"}, "municipalities": []string{kasimov, shilovo}}},
			oracle{cats: []string{"Дороги"}, oktmos: []string{kasimov, shilovo}}, true},
		{"theme filter keeps appeal_counts_1d", q{"queryType": "heatmap", "measure": "voices", "filters": q{"themes": []string{"Ямы"}}},
			oracle{voices: true, themes: []string{"Ямы"}}, false},
	}
	for _, c := range heatCases {
		t.Run("heatmap "+c.name, func(t *testing.T) {
			c.o.all = all
			cur, base := map[string]int64{}, map[string]int64{}
			c.o.each(from, to, func(a appeal, n int64) { cur[a.oktmo] += n })
			c.o.each(baseFrom, from, func(a appeal, n int64) { base[a.oktmo] += n })
			f := h.run(from, to, oneDay, c.model)[0]
			narrowSQL(t, f, c.narrow)
			want := heatmapRows(cur, base, periodDays, 90)
			got := heatmapCore(f)
			if len(c.o.oktmos) > 0 { // the plugin lists only the chosen municipalities
				var w [][]any
				for _, r := range want {
					if slices.Contains(c.o.oktmos, r[0].(string)) {
						w = append(w, r)
					}
				}
				want = w
			}
			sameRows(t, c.name, got, want)
		})
	}

	t.Run("top", func(t *testing.T) {
		for _, c := range []struct {
			dim string
			o   oracle
		}{{"municipality", oracle{}}, {"category", oracle{voices: true}}} {
			c.o.all = all
			sums := map[string]int64{}
			var total int64
			c.o.each(from, to, func(a appeal, n int64) {
				k := a.oktmo
				if c.dim == "category" {
					k = a.category
				}
				sums[k] += n
				total += n
			})
			var want [][]any
			for k, v := range sums {
				want = append(want, []any{k, v, float64(v) * 100 / float64(total)})
			}
			sort.Slice(want, func(i, j int) bool {
				if want[i][1] != want[j][1] {
					return want[i][1].(int64) > want[j][1].(int64)
				}
				return want[i][0].(string) < want[j][0].(string)
			})
			model := q{"queryType": "top", "dimension": c.dim}
			if c.o.voices {
				model["measure"] = "voices"
			}
			f := h.run(from, to, oneDay, model)[0]
			narrowSQL(t, f, true)
			var got [][]any
			for _, r := range rows(f) {
				got = append(got, []any{r[0], r[2], r[3]})
			}
			sameRows(t, "top "+c.dim, got, want)
		}
	})

	t.Run("planning", func(t *testing.T) {
		for _, c := range []struct {
			name     string
			from, to time.Time
			groupBy  string
		}{
			{"by municipality, partial March … partial June", from, to, "municipality"},
			{"by category, longer than a year (the range overlaps its own previous year)", time.Date(2024, 6, 12, 0, 0, 0, 0, msk), to, "category"},
		} {
			o := oracle{all: all}
			key := func(a appeal) string {
				if c.groupBy == "category" {
					return a.category
				}
				return a.oktmo
			}
			type pk struct {
				p int
				k string
			}
			monthly, yearly := map[pk][2]int64{}, map[pk][2]int64{}
			bump := func(m map[pk][2]int64, k pk, i int) { v := m[k]; v[i]++; m[k] = v }
			ym := func(t time.Time) int { return t.Year()*100 + int(t.Month()) }
			o.each(c.from, c.to, func(a appeal, _ int64) {
				bump(monthly, pk{ym(a.at), key(a)}, 0)
				bump(yearly, pk{a.at.Year(), key(a)}, 0)
			})
			o.each(c.from.AddDate(-1, 0, 0), c.to.AddDate(-1, 0, 0), func(a appeal, _ int64) {
				bump(monthly, pk{ym(a.at) + 100, key(a)}, 1)
				bump(yearly, pk{a.at.Year() + 1, key(a)}, 1)
			})
			flat := func(m map[pk][2]int64, period func(int) any) [][]any {
				keys := make([]pk, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				sort.Slice(keys, func(i, j int) bool {
					if keys[i].p != keys[j].p {
						return keys[i].p < keys[j].p
					}
					return keys[i].k < keys[j].k
				})
				var out [][]any
				for _, k := range keys {
					out = append(out, []any{period(k.p), k.k, m[k][0], m[k][1]})
				}
				return out
			}
			frames := h.run(c.from, c.to, oneDay, q{"queryType": "planning", "groupBy": c.groupBy})
			narrowSQL(t, frames[0], true)
			project := func(f *data.Frame) [][]any {
				var out [][]any
				for _, r := range rows(f) {
					out = append(out, []any{r[0], r[1], r[3], r[4]})
				}
				return out
			}
			sameRows(t, c.name+" monthly", project(frames[0]), flat(monthly, func(p int) any {
				return time.Date(p/100, time.Month(p%100), 1, 0, 0, 0, 0, msk).UTC()
			}))
			sameRows(t, c.name+" yearly", project(frames[1]), flat(yearly, func(p int) any { return int64(p) }))
		}
	})
}
