package sink

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
)

// appealsColumns is the row layout the sink inserted before blocks (one slice per column, straight from
// the appeals), kept as the reference a block's columns must equal, times to the second (DateTime's).
func appealsColumns(rows []*model.Appeal, processed time.Time, version uint64) []any {
	n := len(rows)
	str := func(f func(a *model.Appeal) string) []string {
		out := make([]string, n)
		for i, a := range rows {
			out[i] = f(a)
		}
		return out
	}
	f32 := func(f func(a *model.Appeal) float32) []float32 {
		out := make([]float32, n)
		for i, a := range rows {
			out[i] = f(a)
		}
		return out
	}
	f64 := func(f func(a *model.Appeal) float64) []float64 {
		out := make([]float64, n)
		for i, a := range rows {
			out[i] = f(a)
		}
		return out
	}
	tm := func(f func(a *model.Appeal) time.Time) []time.Time {
		out := make([]time.Time, n)
		for i, a := range rows {
			out[i] = f(a).UTC().Truncate(time.Second)
		}
		return out
	}
	u8 := func(f func(a *model.Appeal) bool) []uint8 {
		out := make([]uint8, n)
		for i, a := range rows {
			out[i] = boolU8(f(a))
		}
		return out
	}
	att := make([][]string, n)
	fp, versions, offset := make([]uint64, n), make([]uint64, n), make([]int64, n)
	part, tz := make([]int32, n), make([]int32, n)
	for i, a := range rows {
		att[i] = a.Attachments
		if att[i] == nil {
			att[i] = []string{}
		}
		fp[i], versions[i], offset[i] = a.Fingerprint, version, a.Origin.Offset
		part[i], tz[i] = int32(a.Origin.Partition), model.ZoneOffset(model.RegionLocation(a.Region), a.EventTime)
	}
	return []any{
		str(func(a *model.Appeal) string { return a.ID }), str(func(a *model.Appeal) string { return a.Source }),
		str(func(a *model.Appeal) string { return a.SourceID }), str(func(a *model.Appeal) string { return a.Region }),
		str(func(a *model.Appeal) string { return a.OKTMO }), str(func(a *model.Appeal) string { return a.Municipality }),
		str(func(a *model.Appeal) string { return a.Category }), f32(func(a *model.Appeal) float32 { return a.CategoryConf }),
		str(func(a *model.Appeal) string { return a.Theme }), f32(func(a *model.Appeal) float32 { return a.ThemeConf }),
		str(func(a *model.Appeal) string { return a.Agency }), f32(func(a *model.Appeal) float32 { return a.AgencyConf }),
		str(func(a *model.Appeal) string { return a.Text }), str(func(a *model.Appeal) string { return a.Address }),
		f64(func(a *model.Appeal) float64 { return a.Lat }), f64(func(a *model.Appeal) float64 { return a.Lon }),
		str(func(a *model.Appeal) string { return a.URL }), att,
		str(func(a *model.Appeal) string { return a.AuthorHash }), fp,
		tm(func(a *model.Appeal) time.Time { return a.EventTime }), tm(func(a *model.Appeal) time.Time { return a.ReceivedTime }),
		tm(func(*model.Appeal) time.Time { return processed }),
		str(func(a *model.Appeal) string { return a.Status }), str(func(a *model.Appeal) string { return a.IncidentID }),
		u8(func(a *model.Appeal) bool { return a.IsIncident }), u8(func(a *model.Appeal) bool { return a.IsLate }),
		str(func(a *model.Appeal) string { return a.Origin.Topic }), part, offset, versions,
		tm(func(a *model.Appeal) time.Time { return deadlineOrZero(a.Hints.Deadline) }), tz,
	}
}

// variedAppeals are n consecutive appeals of one partition whose every stored field varies: empty and
// multi-byte strings, attachments nil, empty or holding empty strings, zero and zoned deadlines,
// sub-second and zoned times, months changing, regions of other zones.
func variedAppeals(r *rand.Rand, topic string, partition int, first int64, n int) []*model.Appeal {
	msk := time.FixedZone("MSK", 3*3600)
	words := []string{"", "яма", "Рязань, ул. Есенина, д. 12", "https://vk.com/wall-1_2", "∑ ёж 🚧", "a"}
	pick := func() string { return words[r.IntN(len(words))] }
	out := make([]*model.Appeal, n)
	t := time.Date(2026, 1, 31, 23, 59, 0, 0, time.UTC)
	for i := range out {
		t = t.Add(time.Duration(r.IntN(40_000)) * time.Millisecond * 400)
		a := &model.Appeal{ID: fmt.Sprintf("vk:%d-%d", partition, first+int64(i)), Source: []string{"vk", "nashdom", "112", "pos"}[r.IntN(4)],
			SourceID: fmt.Sprint(first + int64(i)), Region: []string{model.DefaultRegion, "ryazan", "kaliningrad"}[r.IntN(3)],
			Text: pick() + pick() + pick(), Address: pick(), URL: pick(), AuthorHash: pick(),
			Lat: r.Float64() * 60, Lon: r.Float64() * 40, EventTime: t.In(msk), ReceivedTime: t.Add(time.Second),
			OKTMO: fmt.Sprint(61700000 + r.IntN(30)*1000), Municipality: pick(), Category: pick(), Theme: pick(), Agency: pick(),
			CategoryConf: r.Float32(), ThemeConf: r.Float32(), AgencyConf: r.Float32(), Fingerprint: r.Uint64(),
			IncidentID: pick(), IsIncident: r.IntN(2) == 0, IsLate: r.IntN(3) == 0, Status: pick(),
			Origin: model.Offset{Topic: topic, Partition: partition, Offset: first + int64(i)}}
		switch r.IntN(4) {
		case 0:
			a.Attachments = []string{}
		case 1:
			a.Attachments = []string{pick(), "", "https://example.org/photo.jpg"}
		case 2:
			a.Attachments = []string{"∑"}
		}
		if r.IntN(2) == 0 {
			a.Hints.Deadline = t.Add(8 * time.Hour).In(msk)
		}
		a.Hints.Lead, a.Hints.Category = "not stored", "not stored"
		out[i] = a
	}
	return out
}

func TestBlockColumnsEqualTheAppeals(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	processed := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	a := variedAppeals(r, "appeals.raw.vk", 3, 100, 700)
	b := variedAppeals(r, "appeals.raw.pos", 1, 0, 300)
	blocks := []*Block{NewBlock(a[:250]), NewBlock(a[250:]), NewBlock(b), NewBlock(nil)}
	all := append(append([]*model.Appeal(nil), a...), b...)
	whole := run{{blocks[0], 0, 250}, {blocks[1], 0, 450}, {blocks[3], 0, 0}, {blocks[2], 0, 300}}

	var c columns
	for _, tc := range []struct {
		name string
		rows run
		want []*model.Appeal
	}{
		{"whole blocks", whole, all},
		{"parts of blocks", run{{blocks[0], 10, 20}, {blocks[1], 449, 450}, {blocks[2], 5, 7}}, append(append(all[10:20:20], all[699]), all[705:707]...)},
		{"nothing", nil, nil},
	} {
		got := c.fill(tc.rows, processed, 42)
		want := appealsColumns(tc.want, processed, 42)
		if len(got) != len(want) {
			t.Fatalf("%s: %d columns, want %d", tc.name, len(got), len(want))
		}
		for k := range want {
			if !reflect.DeepEqual(got[k], want[k]) {
				t.Errorf("%s: column %d (%T) differs from the appeals'", tc.name, k, want[k])
			}
		}
	}
	c.release()
	for i, s := range c.text[:cap(c.text)] {
		if s != "" {
			t.Fatalf("released columns still hold row %d's text", i)
		}
	}

	// What the committer reads of a block, and the rows the checker settles.
	for i, ap := range a[250:] {
		bk := blocks[1]
		if bk.Source(i) != ap.Source || bk.Region(i) != ap.Region || bk.Incident(i) != ap.IsIncident || bk.Late(i) != ap.IsLate ||
			!bk.EventTime(i).Equal(ap.EventTime.Truncate(time.Second)) || bk.offset[i] != ap.Origin.Offset {
			t.Fatalf("row %d of block 1 reads differently from its appeal", i)
		}
	}
	if bk := blocks[2]; bk.topic != "appeals.raw.pos" || bk.partition != 1 || bk.Len() != 300 || blocks[3].Len() != 0 {
		t.Fatalf("block 2 is %s/%d with %d rows", bk.topic, bk.partition, bk.Len())
	}
	for k, ap := range whole.appeals() {
		want := all[k]
		if ap.Region != want.Region || !ap.EventTime.Equal(want.EventTime.Truncate(time.Second)) || ap.Origin != want.Origin {
			t.Fatalf("settled row %d = %+v, want the region, second and origin of %+v", k, ap, want.Origin)
		}
	}
}

// TestRunsCut checks the cuts the sink makes of its rounds: by month, by a row filter and in chunks,
// each keeping the rows' order across blocks.
func TestRunsCut(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	a := variedAppeals(r, "t", 0, 0, 900) // from the last minute of January over about a month
	whole := run{{NewBlock(a[:300]), 0, 300}, {NewBlock(a[300:301]), 0, 1}, {NewBlock(a[301:]), 0, 599}}
	offsets := func(r run) []int64 {
		var out []int64
		r.each(func(b *Block, i int) { out = append(out, b.offset[i]) })
		return out
	}
	var want []int64
	for _, ap := range a {
		want = append(want, ap.Origin.Offset)
	}

	months := whole.byMonth()
	if len(months) < 3 {
		t.Fatalf("%d months, want the stream to cross at least two month ends", len(months))
	}
	var joined []int64
	for k, m := range months {
		mo := m.firstMonth()
		m.each(func(b *Block, i int) {
			if b.month[i] != mo {
				t.Fatalf("month run %d mixes months %d and %d", k, mo, b.month[i])
			}
		})
		if k > 0 && months[k-1].firstMonth() == mo {
			t.Fatalf("month runs %d and %d are both month %d", k-1, k, mo)
		}
		joined = append(joined, offsets(m)...)
	}
	if !reflect.DeepEqual(joined, want) {
		t.Fatal("the month runs do not hold every row once, in order")
	}

	even := whole.keep(func(b *Block, i int) bool { return b.offset[i]%2 == 0 || b.offset[i] == 300 })
	var wantKept []int64
	for _, o := range want {
		if o%2 == 0 || o == 300 {
			wantKept = append(wantKept, o)
		}
	}
	if got := offsets(even); !reflect.DeepEqual(got, wantKept) || even.len() != len(wantKept) {
		t.Fatalf("keep gave %d rows, want %d", len(got), len(wantKept))
	}
	if whole.keep(func(*Block, int) bool { return false }).len() != 0 {
		t.Fatal("keep of nothing holds rows")
	}

	for _, size := range []int{1, 7, 299, 300, 301, 900, 5000} {
		chunks := whole.chunks(size)
		var got []int64
		for k, c := range chunks {
			if n := c.len(); n > size || n == 0 || k < len(chunks)-1 && n != size {
				t.Fatalf("chunks of %d: chunk %d holds %d rows", size, k, n)
			}
			got = append(got, offsets(c)...)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("chunks of %d do not hold every row once, in order", size)
		}
	}
	if last := whole.last(); last != a[899].Origin {
		t.Fatalf("last = %v, want %v", last, a[899].Origin)
	}
}

// BenchmarkCarriedRows weighs what a batch waiting for its INSERT keeps on the heap per row: the appeals
// as the pipeline made them (their hints included), or their block once the appeals are gone.
func BenchmarkCarriedRows(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	const n = 20_000
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	for range b.N {
		before := heap()
		rows := variedAppeals(r, "appeals.raw.vk", 0, 0, n)
		for _, a := range rows {
			a.Text += " Во дворе дома не вывозят мусор уже неделю, контейнеры переполнены, просим принять меры" // a text's usual length
		}
		asAppeals := heap() - before
		block := NewBlock(rows)
		rows = nil
		asBlock := heap() - before
		runtime.KeepAlive(block)
		b.ReportMetric(float64(asAppeals)/n, "appeal-B/row")
		b.ReportMetric(float64(asBlock)/n, "block-B/row")
	}
}

// A source may state any OKTMO, so a block's distinct low-cardinality values are not bounded by the
// few labels the model and the sources use: 70,000 distinct ones lay out as the appeals do.
func TestBlockOfManyDistinctLabels(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	rows := variedAppeals(r, "appeals.raw.pos", 0, 0, 70_000)
	for i, a := range rows {
		a.OKTMO = fmt.Sprintf("617%08d", i)
	}
	b := NewBlock(rows)
	var c columns
	got := c.fill(run{{b, 0, b.Len()}}, time.Unix(0, 0).UTC(), 1)
	if want := appealsColumns(rows, time.Unix(0, 0).UTC(), 1); !reflect.DeepEqual(got[4], want[4]) || !reflect.DeepEqual(got[0], want[0]) {
		t.Fatal("a block of 70,000 distinct OKTMOs lays out other OKTMOs or ids than its appeals")
	}
}
