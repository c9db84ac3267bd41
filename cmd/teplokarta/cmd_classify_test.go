package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/classify"
)

func TestClassifyStream(t *testing.T) {
	c, err := loadClassifier("", "", "")
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"Не работает уличное освещение на улице Каширина",
		"В Шилово на улице Спасской огромная яма на дороге, разбит асфальт",
		"Надписи на фасаде дома, просьба закрасить",
		"В аптеках нет масок из-за коронавируса",
	}
	var in bytes.Buffer
	type want struct{ id, err string }
	var wants []want
	for i := range 700 { // several batches, so workers finish out of order
		switch i % 7 {
		case 3:
			in.WriteString("{not json\n")
			wants = append(wants, want{"", "bad JSON"})
		case 5:
			fmt.Fprintf(&in, "{\"id\": %d}\n", i)
			wants = append(wants, want{fmt.Sprint(i), "no \"text\""})
		case 6:
			in.WriteString("   \r\n")
			wants = append(wants, want{"", "empty line"})
		default:
			b, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("a-%d", i), "text": texts[i%len(texts)]})
			in.Write(b)
			in.WriteString("\n")
			wants = append(wants, want{fmt.Sprintf("%q", fmt.Sprintf("a-%d", i)), ""})
		}
	}
	in.WriteString(`{"id":"long","text":"` + strings.Repeat("я", maxClassifyLine) + `"}` + "\n")
	wants = append(wants, want{"", "longer than"})
	in.WriteString(`{"id":"last","text":"яма на дороге"}`) // no final newline
	wants = append(wants, want{`"last"`, ""})

	var out bytes.Buffer
	if err := c.stream(context.Background(), &in, &out, 3); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		if n >= len(wants) {
			t.Fatalf("extra output line %q", sc.Text())
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &got); err != nil {
			t.Fatalf("line %d is not JSON: %v", n+1, err)
		}
		w := wants[n]
		if w.err != "" {
			var msg string
			json.Unmarshal(got["error"], &msg)
			if !strings.Contains(msg, w.err) || string(got["line"]) != fmt.Sprint(n+1) {
				t.Fatalf("line %d: %s, want error %q", n+1, sc.Text(), w.err)
			}
		} else {
			for _, k := range []string{"category", "theme", "executor", "oktmo", "confidence", "top3"} {
				if _, ok := got[k]; !ok {
					t.Fatalf("line %d lacks %q: %s", n+1, k, sc.Text())
				}
			}
		}
		if w.id != "" && string(got["id"]) != w.id {
			t.Fatalf("line %d: id %s, want %s (order lost?)", n+1, got["id"], w.id)
		}
		n++
	}
	if n != len(wants) {
		t.Fatalf("%d output lines for %d input lines", n, len(wants))
	}
}

func TestClassifyOneRoutesAndResolves(t *testing.T) {
	c, err := loadClassifier("", "", "")
	if err != nil {
		t.Fatal(err)
	}
	o := c.one(json.RawMessage(`7`), "В Шилово на улице Спасской огромная яма на дороге, разбит асфальт")
	if o.OKTMO != "61658000" || o.Executor != "Администрация Шиловского муниципального района Рязанской области" || o.Top3.Executor[0].Name != o.Executor {
		t.Fatalf("got %+v", o)
	}
	o = c.one(json.RawMessage(`8`), "В аптеках нет масок и антисептиков, коронавирус")
	if o.Category != "Коронавирус" || o.Theme != "Аптеки и лекарства" || o.Rule == "" {
		t.Fatalf("got %+v", o)
	}
}

// BenchmarkClassifyLine measures one JSON line in, one JSON line out: decode, classify, resolve, route,
// encode. texts/cpu-s is what one dedicated core sustains (run with -cpu 1; the machine is shared).
func BenchmarkClassifyLine(b *testing.B) {
	c, err := loadClassifier("", "", "")
	if err != nil {
		b.Fatal(err)
	}
	lines := [][]byte{
		[]byte(`{"id":1,"text":"Не работает уличное освещение на ул. Магистральной напротив дома 64/22 по ул. Октябрьская, не освещается чуть более 200 метров."}`),
		[]byte(`{"id":2,"text":"Надписи на гаражах во дворе дома ул. Дзержинского, 69. Просьба закрасить."}`),
		[]byte(`{"id":3,"text":"В Шилово на улице Спасской огромная яма на дороге, разбит асфальт, машины объезжают по встречной полосе."}`),
		[]byte(`{"id":4,"text":"В подъезде дома не работает лифт уже третью неделю, управляющая компания на звонки не отвечает."}`),
	}
	benchmarkLines(b, c, lines)
}

func benchmarkLines(b *testing.B, c *classifier, lines [][]byte) {
	var buf bytes.Buffer
	b.ReportAllocs()
	cpu := cpuNow()
	for i := 0; b.Loop(); i++ {
		buf.Reset()
		c.line(&buf, int64(i), lines[i%len(lines)], false)
	}
	if d := cpuNow() - cpu; d > 0 {
		b.ReportMetric(float64(b.N)/d.Seconds(), "texts/cpu-s")
	}
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkClassifyPortalLine is BenchmarkClassifyLine over the «Наш дом» portal's real texts (median
// 180 characters, some several kilobytes), the input `teplokarta classify` is judged on.
func BenchmarkClassifyPortalLine(b *testing.B) {
	c, err := loadClassifier("", "", "")
	if err != nil {
		b.Fatal(err)
	}
	texts := portalTexts(b)
	if len(texts) == 0 {
		b.Skip("shared data not present")
	}
	lines := make([][]byte, len(texts))
	for i, text := range texts {
		if lines[i], err = json.Marshal(map[string]any{"id": i, "text": text}); err != nil {
			b.Fatal(err)
		}
	}
	benchmarkLines(b, c, lines)
}

// portalTexts returns the «Наш дом» portal's texts from the shared data, or none when it is absent.
func portalTexts(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.SharedData(t), "nashdom-ryazan", "train.csv"))
	if err != nil {
		t.Log("shared data not present:", err)
		return nil
	}
	defer f.Close()
	examples, _, err := classify.ReadExamples(f)
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, len(examples))
	for i, ex := range examples {
		texts[i] = ex.Text
	}
	return texts
}

// BenchmarkClassifyCommand runs the built `teplokarta classify` (--workers 1 and 2) as its own process over
// the portal's texts ×40 (50,360 lines), model loading included, and reports lines per CPU-second of that
// process and lines per second of wall time: the command's figures in docs/classification.md.
func BenchmarkClassifyCommand(b *testing.B) {
	texts := portalTexts(b)
	if len(texts) == 0 {
		b.Skip("shared data not present")
	}
	bin := filepath.Join(b.TempDir(), "teplokarta")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	var in bytes.Buffer
	const copies = 40
	for rep := range copies {
		for i, text := range texts {
			line, err := json.Marshal(map[string]any{"id": fmt.Sprintf("%d-%d", rep, i), "text": text})
			if err != nil {
				b.Fatal(err)
			}
			in.Write(line)
			in.WriteByte('\n')
		}
	}
	lines := copies * len(texts)
	for _, workers := range []string{"1", "2"} {
		b.Run("workers="+workers, func(b *testing.B) {
			var cpu time.Duration
			for b.Loop() {
				cmd := exec.Command(bin, "classify", "--workers", workers)
				cmd.Stdin = bytes.NewReader(in.Bytes())
				var out lineCounter
				var stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &stderr
				if err := cmd.Run(); err != nil {
					b.Fatalf("classify: %v\n%s", err, stderr.String())
				}
				if int(out) != lines {
					b.Fatalf("%d lines out for %d in", out, lines)
				}
				cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			}
			b.ReportMetric(float64(lines*b.N)/cpu.Seconds(), "lines/cpu-s")
			b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

// lineCounter counts the lines written to it.
type lineCounter int

func (c *lineCounter) Write(p []byte) (int, error) {
	*c += lineCounter(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}
