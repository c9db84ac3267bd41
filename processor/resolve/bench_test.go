package resolve

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/model"
)

// benchTexts are ~300-character appeals: one names a district town late, one only a capital street,
// one nothing at all (the worst case: every word is looked up and nothing ends the scan).
var benchTexts = []string{
	"Здравствуйте! Уже третий год обращаемся по поводу дороги к школе: летом пыль, весной и осенью грязь по колено, " +
		"дети ходят по обочине, машины ездят быстро. Обещали заасфальтировать ещё в прошлом году, но ничего не сделано. " +
		"Просим принять меры. Жители улицы Садовой, р.п. Шилово.",
	"Во дворе дома 12 на улице Зубковой не вывозят мусор уже две недели, контейнеры переполнены, мусор разносит ветер " +
		"по всей детской площадке. Управляющая компания на звонки не отвечает, диспетчер кладёт трубку. Прошу разобраться " +
		"и наказать виновных, а также установить график вывоза.",
	"Добрый день. В нашем подъезде после капитального ремонта крыши течёт потолок на пятом этаже, вода стекает по стенам " +
		"до третьего этажа, штукатурка отваливается, проводка мокрая. Подрядчик приезжал один раз и больше не появлялся. " +
		"Кто будет отвечать, если случится пожар? Прошу помочь.",
}

func BenchmarkResolveText(b *testing.B) {
	r := New(geo.Default())
	appeals := make([]model.Appeal, len(benchTexts))
	for i, t := range benchTexts {
		appeals[i].Text = t
	}
	b.ReportAllocs()
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		r.Resolve(&appeals[i%len(appeals)])
	}
	reportCPU(b, cpu)
}

// cpuTime is the process's CPU time. The build machine is shared, so wall-clock ns/op overstates the
// cost several times over; CPU time per op (run with -cpu 1) is what a dedicated core would see.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	if d := cpuTime() - start; d > 0 {
		perOp := float64(d.Nanoseconds()) / float64(b.N)
		b.ReportMetric(perOp, "cpu-ns/op")
		b.ReportMetric(1e9/perOp, "resolutions/cpu-s")
	}
}

// BenchmarkResolveNashDom runs over the real «Наш дом» texts (mean length ≈ 300 characters).
func BenchmarkResolveNashDom(b *testing.B) {
	dir := os.Getenv("TEPLOKARTA_SHARED_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "data")
	}
	f, err := os.Open(filepath.Join(dir, "nashdom-ryazan", "train.csv"))
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	appeals := make([]model.Appeal, 0, len(rows))
	for _, row := range rows[1:] {
		appeals = append(appeals, model.Appeal{Text: row[1]})
	}
	r := New(geo.Default())
	b.ReportAllocs()
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		r.Resolve(&appeals[i%len(appeals)])
	}
	reportCPU(b, cpu)
}

func BenchmarkResolveCoords(b *testing.B) {
	r := New(geo.Default())
	a := &model.Appeal{Lat: 54.31, Lon: 40.88}
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		r.Resolve(a)
	}
	reportCPU(b, cpu)
}

func BenchmarkNew(b *testing.B) {
	g := geo.Default()
	b.ReportAllocs()
	for b.Loop() {
		New(g)
	}
}
