package resolve

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/model"
)

func TestResolveOrder(t *testing.T) {
	r := New(geo.Default())
	tests := []struct {
		name       string
		a          model.Appeal
		want, meth string
	}{
		{"oktmo wins over everything", model.Appeal{Hints: model.Hints{OKTMO: "61658000", Municipality: "г. Сасово"},
			Lat: 54.6254, Lon: 39.7359, Text: "в Касимове", Agency: "Префектура Советского района"}, "Шиловский район", MethodOKTMO},
		{"11-digit settlement code", model.Appeal{Hints: model.Hints{OKTMO: "61705000001"}}, "Касимов", MethodOKTMO},
		{"unknown code falls through", model.Appeal{Hints: model.Hints{OKTMO: "99999999"}, Text: "в Шилово"}, "Шиловский район", MethodText},
		{"malformed code falls through", model.Appeal{Hints: model.Hints{OKTMO: "6165800"}, Text: "в Шилово"}, "Шиловский район", MethodText},
		{"coords before hint", model.Appeal{Lat: 54.3509, Lon: 41.9117, Hints: model.Hints{Municipality: "Шиловский район"}}, "Сасово", MethodCoords},
		{"coords outside region fall through", model.Appeal{Lat: 55.75, Lon: 37.62, Hints: model.Hints{Municipality: "Шиловский район"}}, "Шиловский район", MethodHint},
		{"hint before text", model.Appeal{Hints: model.Hints{Municipality: "г. Сасово"}, Text: "в Шилово"}, "Сасово", MethodHint},
		{"text before agency", model.Appeal{Text: "в Шилово", Agency: "Префектура Советского района"}, "Шиловский район", MethodText},
		{"hint agency before agency", model.Appeal{Hints: model.Hints{Agency: "Администрация города Сасово"}, Agency: "Префектура Советского района"}, "Сасово", MethodAgency},
		{"agency when text says nothing", model.Appeal{Text: "Спасибо!", Agency: "Администрация Шацкого муниципального района Рязанской области"}, "Шацкий район", MethodAgency},
		{"sectoral agency is no place", model.Appeal{Agency: "Управление благоустройства города"}, "", ""},
		{"nothing known", model.Appeal{}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, meth, ok := r.Resolve(&tc.a)
			got := ""
			if ok {
				got = m.DisplayName()
			}
			if got != tc.want || meth != tc.meth || ok != (tc.want != "") {
				t.Errorf("got %q by %q (ok=%v), want %q by %q", got, meth, ok, tc.want, tc.meth)
			}
		})
	}
}

func TestResolveHint(t *testing.T) {
	r := New(geo.Default())
	tests := []struct{ hint, want string }{
		{"Шиловский район", "Шиловский район"},
		{"Шиловский муниципальный округ", "Шиловский район"},
		{"Шиловский", "Шиловский район"},
		{"Рязанский р-н", "Рязанский район"},
		{"Рязанский", "Рязанский район"},
		{"г. Сасово", "Сасово"},
		{"Сасово", "Сасово"},
		{"Сасовский район", "Сасовский район"},
		{"городской округ город Касимов", "Касимов"},
		{"Касимовский р-н", "Касимовский район"},
		{"г Рязань", "Рязань"},
		{"Рязанская область, Скопинский район, р.п. Павелец", "Скопинский район"},
		{"Рязанская область", ""},
		{"ул. Зубковой", ""}, // a place field names municipalities, not streets
		{"Москва", ""},
	}
	for _, tc := range tests {
		m, meth, ok := r.Resolve(&model.Appeal{Hints: model.Hints{Municipality: tc.hint}})
		got := ""
		if ok {
			got = m.DisplayName()
			if meth != MethodHint {
				t.Errorf("%q: method %q", tc.hint, meth)
			}
		}
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.hint, got, tc.want)
		}
	}
}

func TestResolveCoords(t *testing.T) {
	r := New(geo.Default())
	tests := []struct {
		name     string
		lat, lon float64
		want     string
	}{
		{"Ryazan centre", 54.6254, 39.7359, "Рязань"},
		{"Ryazan, Дашково-Песочня", 54.585, 39.77, "Рязань"},
		{"just outside Ryazan: its district", 54.53, 39.55, "Рязанский район"},
		{"Kasimov centre", 54.9373, 41.3913, "Касимов"},
		{"15 km from Kasimov: Kasimov district", 55.05, 41.39, "Касимовский район"},
		{"Sasovo", 54.352, 41.915, "Сасово"},
		{"near Sasovo outside the town", 54.30, 41.80, "Сасовский район"},
		{"Skopin", 53.824, 39.549, "Скопин"},
		{"Shilovo", 54.3119, 40.8853, "Шиловский район"},
		{"Spas-Klepiki", 55.13, 40.17, "Клепиковский район"},
		{"Shatsk", 54.03, 41.72, "Шацкий район"},
		{"Novomichurinsk (Pronsky)", 54.04, 39.75, "Пронский район"},
		{"Moscow is not in the region", 55.75, 37.62, ""},
		{"zero means unknown", 0, 0, ""},
		{"NaN", math.NaN(), 40, ""},
	}
	for _, tc := range tests {
		m, meth, ok := r.Resolve(&model.Appeal{Lat: tc.lat, Lon: tc.lon})
		got := ""
		if ok {
			got = m.DisplayName()
			if meth != MethodCoords {
				t.Errorf("%s: method %q", tc.name, meth)
			}
		}
		if got != tc.want {
			t.Errorf("%s (%.3f,%.3f): got %q, want %q", tc.name, tc.lat, tc.lon, got, tc.want)
		}
	}
}

func TestInflect(t *testing.T) {
	tests := []struct {
		word string
		mode inflectMode
		want []string
		not  []string
	}{
		{"шилово", inflectAll, []string{"шилово", "шилова", "шилову", "шиловом", "шилове"}, nil},
		{"касимов", inflectAll, []string{"касимова", "касимове", "касимовом"}, nil},
		{"рязань", inflectAll, []string{"рязани", "рязанью"}, []string{"рязанский"}},
		{"шиловский", inflectAll, []string{"шиловского", "шиловском", "шиловскому", "шиловская", "шиловских"}, nil},
		{"спас-клепики", inflectAll, []string{"спас-клепиках", "спас-клепиков"}, nil},
		{"спасск-рязанский", inflectAll, []string{"спасске-рязанском", "спасск-рязанского"}, nil},
		{"солотча", inflectAll, []string{"солотчи", "солотче", "солотчей"}, nil},
		{"сараи", inflectAll, []string{"сараях", "сараев"}, nil},
		{"рыбное", inflectAll, []string{"рыбном", "рыбного"}, nil},
		{"ленина", inflectAdjOnly, []string{"ленина"}, []string{"ленине"}},
		{"соборная", inflectAdjOnly, []string{"соборной", "соборную"}, nil},
		{"шоссе", inflectAll, []string{"шоссе"}, nil},
	}
	for _, tc := range tests {
		forms := map[string]bool{}
		for _, f := range inflect(tc.word, tc.mode) {
			forms[f] = true
		}
		for _, w := range tc.want {
			if !forms[w] {
				t.Errorf("%s: missing %s in %v", tc.word, w, forms)
			}
		}
		for _, w := range tc.not {
			if forms[w] {
				t.Errorf("%s: unexpected %s", tc.word, w)
			}
		}
	}
}

func TestTokenize(t *testing.T) {
	norm, toks := tokenize("Р.п. ШИЛОВО, ул.Ёлочная — Спас-Клепики; Рязань-1 -", nil, nil)
	var got []string
	for _, tk := range toks {
		got = append(got, string(norm[tk.start:tk.end]))
	}
	want := "р п шилово ул елочная спас-клепики рязань-1"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, " "), want)
	}
	if !toks[0].sentence || !toks[2].upper || toks[2].sentence || !toks[5].dash || toks[5].punct || !toks[3].punct || !toks[6].sentence {
		t.Errorf("flags wrong: %+v", toks)
	}
}

// TestConcurrent exercises one Resolver from many goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	r := New(geo.Default())
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, tc := range textCases {
				m, _, ok := r.Resolve(&model.Appeal{Text: tc.text})
				got := ""
				if ok {
					got = m.DisplayName()
				}
				if got != tc.want {
					errs <- fmt.Errorf("%q: got %q, want %q", tc.text, got, tc.want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestLongText(t *testing.T) {
	r := New(geo.Default())
	text := strings.Repeat("Очень длинный текст без названий мест. ", 200) + "Живём в Шилово."
	m, _, ok := r.Resolve(&model.Appeal{Text: text})
	if !ok || m.Name != "Шиловский" {
		t.Fatalf("got %v %v", m.Name, ok)
	}
}
