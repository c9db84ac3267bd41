package classify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func miniExamples(t testing.TB) []Example {
	t.Helper()
	f, err := os.Open("testdata/mini.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ex, st, err := ReadExamples(f)
	if err != nil {
		t.Fatal(err)
	}
	want := DataStats{Rows: 27, Kept: 24, Empty: 1, Duplicate: 1, Test: 1}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	return ex
}

func TestReadExamplesErrors(t *testing.T) {
	for _, tc := range []struct{ name, csv string }{
		{"empty file", ""},
		{"missing column", "id,text,category,theme\n1,a,b,c\n"},
		{"only skipped rows", "id,text,category,theme,executor\n1,,a,b,c\n"},
		{"broken quoting", "id,text,category,theme,executor\n1,\"abc,a,b,c\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadExamples(strings.NewReader(tc.csv))
			if !errors.Is(err, ErrBadData) {
				t.Fatalf("err = %v, want ErrBadData", err)
			}
		})
	}
}

func modelBytes(t testing.TB, m *Model) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := m.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestTrainReproducible trains twice from the same data and seed and wants identical bytes, then checks
// that another seed changes them (the seed is really used) and that the file reloads to the same answers.
func TestTrainReproducible(t *testing.T) {
	ex := miniExamples(t)
	cfg := DefaultTrainConfig()
	cfg.Features.CharMax = 4 // exercise the char n-gram path too
	m1, err := Train(context.Background(), ex, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := Train(context.Background(), ex, cfg)
	b1, b2 := modelBytes(t, m1), modelBytes(t, m2)
	if sha256.Sum256(b1) != sha256.Sum256(b2) {
		t.Fatal("same data and seed gave different model bytes")
	}
	cfg.Seed = 2
	m3, _ := Train(context.Background(), ex, cfg)
	if bytes.Equal(b1, modelBytes(t, m3)) {
		t.Fatal("another seed gave identical bytes: the seed is not used")
	}
	back, err := Read(bytes.NewReader(b1))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1, modelBytes(t, back)) {
		t.Fatal("read-then-write changed the model bytes")
	}
	for _, e := range ex {
		if p, q := m1.Classify(e.Text), back.Classify(e.Text); p.Category != q.Category || p.Theme != q.Theme || p.Executor != q.Executor {
			t.Fatalf("%q: trained %+v, reloaded %+v", e.Text, p, q)
		}
	}
}

// TestTrainLearns checks predictions on phrasings that are not in the training file.
func TestTrainLearns(t *testing.T) {
	m, err := Train(context.Background(), miniExamples(t), DefaultTrainConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ text, category, theme string }{
		{"Не горят фонари на улице Павлова, темно", "Городская территория", "Не работает уличное освещение"},
		{"Яма на дороге у дома 3, разбит асфальт", "Дороги", "Повреждение или отсутствие дорожного покрытия"},
		{"Граффити на фасаде нашего дома, закрасьте", "Многоквартирные дома", "Несанкционированные объявления, надписи и рисунки на фасадах"},
		{"НЕ УБИРАЮТ ДВОР, МУСОР ЛЕЖИТ МЕСЯЦ", "Дворовая территория", "Неубранная дворовая территория (мусор/снег)"},
		{"Записаться к врачу в поликлинику невозможно", "Здравоохранение поликлиники", "Низкий уровень материально-технического обеспечения поликлиник"},
	} {
		p := m.Classify(tc.text)
		if p.Category.Name != tc.category || p.Theme.Name != tc.theme {
			t.Errorf("%q: got %q / %q, want %q / %q", tc.text, p.Category.Name, p.Theme.Name, tc.category, tc.theme)
		}
		if len(p.Top3.Category) != 3 || p.Top3.Category[0] != p.Category {
			t.Errorf("%q: top3 %+v does not start with the prediction", tc.text, p.Top3.Category)
		}
		var sum float32
		for _, l := range p.Top3.Category {
			sum += l.Conf
		}
		if p.Category.Conf <= 0.2 || sum > 1.0001 {
			t.Errorf("%q: confidences %+v are not probabilities of a clear winner", tc.text, p.Top3.Category)
		}
	}
	// Inputs without any known word still get a full, valid answer.
	for _, text := range []string{"", "   ", "12345", "zzzz qqqq", "\x00\xff"} {
		p := m.Classify(text)
		if p.Category.Name == "" || len(p.Top3.Executor) == 0 {
			t.Errorf("%q: empty prediction %+v", text, p)
		}
	}
}

func TestReadBadModel(t *testing.T) {
	m, err := Train(context.Background(), miniExamples(t), DefaultTrainConfig())
	if err != nil {
		t.Fatal(err)
	}
	good := modelBytes(t, m)
	raw := gunzip(t, good)
	cases := map[string][]byte{
		"empty":       {},
		"not gzip":    []byte("hello"),
		"wrong magic": gzipBytes(t, append([]byte("XXXXXX"), raw[6:]...)),
		"trailing":    gzipBytes(t, append(append([]byte{}, raw...), 1, 2, 3)),
	}
	for _, cut := range []int{7, 20, len(raw) / 3, len(raw) / 2, len(raw) - 1} {
		cases["truncated at "+itoa(cut)] = gzipBytes(t, raw[:cut])
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Read(bytes.NewReader(b)); !errors.Is(err, ErrBadModel) {
				t.Fatalf("err = %v, want ErrBadModel", err)
			}
		})
	}
}

func TestDefaultModel(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine(m, mustTaxonomy(t))
	for _, tc := range []struct{ text, category, theme string }{
		{"Не работает уличное освещение на улице Каширина, фонари не горят", "Городская территория", "Не работает уличное освещение"},
		{"Надписи на фасаде дома по ул. Новоселов 40, просьба закрасить", "Многоквартирные дома", "Несанкционированные объявления, надписи и рисунки на фасадах"},
		{"На дороге огромные ямы, асфальт разбит, отремонтируйте покрытие", "Дороги", "Повреждение или отсутствие дорожного покрытия"},
		{"В аптеках нет масок и антисептиков из-за коронавируса", "Коронавирус", "Аптеки и лекарства"},
	} {
		p := e.Classify(tc.text)
		if p.Category.Name != tc.category || p.Theme.Name != tc.theme {
			t.Errorf("%q: got %q / %q, want %q / %q", tc.text, p.Category.Name, p.Theme.Name, tc.category, tc.theme)
		}
	}
}

func BenchmarkClassify(b *testing.B) {
	m, err := DefaultModel()
	if err != nil {
		b.Fatal(err)
	}
	e := NewEngine(m, mustTaxonomy(b))
	texts := []string{
		"Не работает уличное освещение на ул. Магистральной напротив дома 64/22 по ул. Октябрьская, не освещается чуть более 200 метров. Ходить в вечернее время невозможно.",
		"Надписи на гаражах во дворе дома ул. Дзержинского, 69. Просьба закрасить.",
		"Огромная яма на проезжей части на перекрестке улиц Гагарина и Интернациональной, машины объезжают по встречной полосе, просим отремонтировать дорожное покрытие как можно скорее.",
		"В подъезде дома не работает лифт уже третью неделю, управляющая компания на звонки не отвечает, пожилые жители не могут выйти из квартир.",
	}
	benchmarkClassify(b, e, texts)
}

// BenchmarkClassifyPortal classifies the «Наш дом» portal's real texts in turn (median 180 characters,
// some several kilobytes): what `teplokarta classify` meets in practice, where the four short texts of
// BenchmarkClassify flatter it.
func BenchmarkClassifyPortal(b *testing.B) {
	m, err := DefaultModel()
	if err != nil {
		b.Fatal(err)
	}
	var texts []string
	for _, ex := range portalExamples(b) {
		texts = append(texts, ex.Text)
	}
	benchmarkClassify(b, NewEngine(m, mustTaxonomy(b)), texts)
}

func benchmarkClassify(b *testing.B, e *Engine, texts []string) {
	b.ReportAllocs()
	cpu := cpuTime()
	for i := 0; b.Loop(); i++ {
		e.Classify(texts[i%len(texts)])
	}
	// The build machine is shared: wall-clock ns/op overstates the cost, so report texts per CPU-second
	// too (run with -cpu 1), which is what one dedicated core sustains.
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
	if d := cpuTime() - cpu; d > 0 {
		b.ReportMetric(float64(b.N)/d.Seconds(), "texts/cpu-s")
	}
}
