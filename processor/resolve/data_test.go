package resolve

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/model"
)

// sharedData finds the shared reference data: $TEPLOKARTA_SHARED_DATA, else ../shared/data next to the
// repository root (the directory holding go.mod).
func sharedData(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("TEPLOKARTA_SHARED_DATA"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "data")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func openShared(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedData(t), "nashdom-ryazan", name))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("shared data absent: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// territorialExecutors is the expected municipality of every territorial agency of the «Наш дом» portal,
// written by hand from the agencies' names.
var territorialExecutors = map[string]string{
	"Администрация Александро-Невского муниципального района Рязанской области":                                                        "Александро-Невский район",
	"Администрация Захаровского муниципального района Рязанской области":                                                               "Захаровский район",
	"Администрация Кадомского муниципального района Рязанской области":                                                                 "Кадомский район",
	"Администрация Клепиковского муниципального района Рязанской области":                                                              "Клепиковский район",
	"Администрация Кораблинского муниципального района Рязанской области":                                                              "Кораблинский район",
	"Администрация Милославского муниципального района Рязанской области":                                                              "Милославский район",
	"Администрация Михайловского муниципального района Рязанской области":                                                              "Михайловский район",
	"Администрация Пителинского муниципального района Рязанской области":                                                               "Пителинский район",
	"Администрация Пронского муниципального района Рязанской области":                                                                  "Пронский район",
	"Администрация Путятинского муниципального района Рязанской области":                                                               "Путятинский район",
	"Администрация Рыбновского муниципального района Рязанской области":                                                                "Рыбновский район",
	"Администрация Ряжского муниципального района Рязанской области":                                                                   "Ряжский район",
	"Администрация Рязанского муниципального района":                                                                                   "Рязанский район",
	"Администрация Сапожковского муниципального района Рязанской области":                                                              "Сапожковский район",
	"Администрация Сараевского муниципального района Рязанской области":                                                                "Сараевский район",
	"Администрация Спасского муниципального района Рязанской области":                                                                  "Спасский район",
	"Администрация Старожиловского муниципального района Рязанской области":                                                            "Старожиловский район",
	"Администрация Ухоловского муниципального района Рязанской области":                                                                "Ухоловский район",
	"Администрация Чучковского муниципального района Рязанской области":                                                                "Чучковский район",
	"Администрация Шацкого муниципального района Рязанской области":                                                                    "Шацкий район",
	"Администрация Шиловского муниципального района Рязанской области":                                                                 "Шиловский район",
	"Администрация города Сасово":                                                                                                      "Сасово",
	"Администрация муниципального образования - городской округ город Касимов":                                                         "Касимов",
	"Администрация муниципального образования - городской округ город Скопин Рязанской области":                                        "Скопин",
	"Министерство транспорта и автомобильных дорог Рязанской области; Администрация Спасского муниципального района Рязанской области": "Спасский район",
	"Министерство транспорта и автомобильных дорог Рязанской области; Администрация Шацкого муниципального района Рязанской области":   "Шацкий район",
	"Префектура Железнодорожного района":                                                                                               "Рязань",
	"Префектура Московского района":                                                                                                    "Рязань",
	"Префектура Октябрьского района":                                                                                                   "Рязань",
	"Префектура Советского района":                                                                                                     "Рязань",
}

// TestAgencyExecutors: every territorial agency resolves exactly, every sectoral one not at all.
func TestAgencyExecutors(t *testing.T) {
	r := New(geo.Default())
	sc := bufio.NewScanner(openShared(t, "executors.txt"))
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		n++
		want := territorialExecutors[line]
		m, method, ok := r.Resolve(&model.Appeal{Agency: line})
		got := ""
		if ok {
			got = m.DisplayName()
			if method != MethodAgency {
				t.Errorf("%q: method %q, want agency", line, method)
			}
		}
		if got != want {
			t.Errorf("%q: got %q, want %q", line, got, want)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 70 {
		t.Fatalf("read %d executors, want the portal's 72", n)
	}
}

// TestTextPrecisionOnNashDom resolves the texts of appeals handled by a territorial agency, by text only,
// and compares with the agency's municipality: wrong answers must stay under 5% of the answers given.
func TestTextPrecisionOnNashDom(t *testing.T) {
	r := New(geo.Default())
	rows, err := csv.NewReader(openShared(t, "train.csv")).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var territorial, resolved, correct, anyText int
	var cityDept, cityResolved, cityCorrect int
	var split [2][3]int // [district/town administrations, Ryazan prefectures] × [rows, resolved, correct]
	for _, row := range rows[1:] {
		text, executor := row[1], row[4]
		tm, _, tok := r.Resolve(&model.Appeal{Text: text})
		if tok {
			anyText++
		}
		// «Управление …» executors are departments of Ryazan city's administration: a second check.
		if strings.HasPrefix(executor, "Управление") {
			cityDept++
			if tok {
				cityResolved++
				if tm.Name == "Рязань" {
					cityCorrect++
				}
			}
		}
		want, _, ok := r.Resolve(&model.Appeal{Agency: executor})
		if !ok {
			continue
		}
		territorial++
		byKind := &split[0]
		if want.Name == "Рязань" {
			byKind = &split[1]
		}
		byKind[0]++
		if !tok {
			continue
		}
		resolved++
		byKind[1]++
		if tm.OKTMO == want.OKTMO {
			correct++
			byKind[2]++
		} else {
			t.Logf("wrong: %s → %s (executor %s): %.160s", row[0], tm.DisplayName(), want.DisplayName(), text)
		}
	}
	if territorial < 300 || resolved == 0 {
		t.Fatalf("only %d territorial rows, %d resolved: the data or the agency rules broke", territorial, resolved)
	}
	precision := float64(correct) / float64(resolved)
	t.Logf("territorial rows %d, resolved by text %d (recall %.1f%%), correct %d (precision %.1f%%); all rows %d, resolved by text %d (%.1f%%)",
		territorial, resolved, 100*float64(resolved)/float64(territorial), correct, 100*precision,
		len(rows)-1, anyText, 100*float64(anyText)/float64(len(rows)-1))
	if precision < 0.95 {
		t.Errorf("text precision %.3f < 0.95", precision)
	}
	for i, name := range []string{"district and town administrations", "Ryazan prefectures"} {
		t.Logf("%s: rows %d, resolved %d, correct %d", name, split[i][0], split[i][1], split[i][2])
	}
	cityPrecision := float64(cityCorrect) / float64(max(cityResolved, 1))
	t.Logf("Ryazan city department rows %d, resolved by text %d (recall %.1f%%), Рязань %d (precision %.1f%%)",
		cityDept, cityResolved, 100*float64(cityResolved)/float64(max(cityDept, 1)), cityCorrect, 100*cityPrecision)
	if cityPrecision < 0.95 {
		t.Errorf("city department precision %.3f < 0.95", cityPrecision)
	}
}
