package route

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/classify"
	"github.com/teplokarta/teplokarta/processor/resolve"
)

const (
	shilovo   = "Администрация Шиловского муниципального района Рязанской области"
	ryazanDis = "Администрация Рязанского муниципального района"
	kasimov   = "Администрация муниципального образования - городской округ город Касимов"
	blago     = "Управление благоустройства города"
	energo    = "Управление энергетики и жилищно-коммунального хозяйства"
	health    = "Министерство здравоохранения  Рязанской области"
	social    = "Министерство труда и социальной защиты населения Рязанской области"
	prefZhd   = "Префектура Железнодорожного района"
)

func mustDefault(t testing.TB) *Router {
	t.Helper()
	r, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mun(t testing.TB, oktmo string) geo.Municipality {
	t.Helper()
	m, err := geo.Default().ByOKTMO(oktmo)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func pred(category string, catConf float32, executor string, execConf float32) classify.Prediction {
	p := classify.Prediction{Category: classify.Label{Name: category, Conf: catConf}, Executor: classify.Label{Name: executor, Conf: execConf}}
	p.Top3.Category = []classify.Label{p.Category, {Name: "Социальная защита", Conf: (1 - catConf) / 2}}
	p.Top3.Executor = []classify.Label{p.Executor}
	return p
}

func TestRouteTable(t *testing.T) {
	r := mustDefault(t)
	for _, tc := range []struct {
		name     string
		p        classify.Prediction
		oktmo    string // "" = unresolved
		want     string
		wantConf float32
	}{
		{"district road goes to the district", pred("Дороги", 0.8, blago, 0.6), "61658000", shilovo, 0.8},
		{"district yard even from a ministry guess", pred("Дворовая территория", 0.7, "Министерство ТЭК и ЖКХ Рязанской области", 0.4), "61658000", shilovo, 0.7},
		{"Ryazan district's own name", pred("Городская территория", 0.9, blago, 0.9), "61634000", ryazanDis, 0.9},
		{"Kasimov okrug", pred("Многоквартирные дома", 0.6, energo, 0.5), "61705000", kasimov, 0.6},
		{"regional topic in a district keeps the ministry", pred("Здравоохранение, поликлиники", 0.8, health, 0.7), "61658000", health, 0.7},
		{"city department outside the city is replaced", pred("Образование (школы, детские сады)", 0.8, "Управление образования и молодежной политики", 0.5), "61658000", shilovo, 0.5},
		{"another district's administration is replaced", pred("Социальная защита", 0.8, kasimov, 0.5), "61658000", shilovo, 0.5},
		{"city keeps its departments", pred("Дороги", 0.8, blago, 0.6), "61701000", blago, 0.6},
		{"city keeps prefectures", pred("Многоквартирные дома", 0.8, prefZhd, 0.6), "61701000", prefZhd, 0.6},
		{"district admin in the city becomes the category's department", pred("Многоквартирные дома", 0.7, shilovo, 0.5), "61701000", energo, 0.7},
		{"unknown category in the city falls back to *", pred("Туризм", 0.7, shilovo, 0.5), "61701000", blago, 0.7},
		{"unresolved keeps the prediction", pred("Дороги", 0.8, blago, 0.6), "", blago, 0.6},
		{"the district's own administration stays", pred("Социальная защита", 0.8, shilovo, 0.3), "61658000", shilovo, 0.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m geo.Municipality
			if tc.oktmo != "" {
				m = mun(t, tc.oktmo)
			}
			got, conf := r.Route(tc.p, m, tc.oktmo != "")
			if got != tc.want || conf != tc.wantConf {
				t.Fatalf("got %q %.2f, want %q %.2f", got, conf, tc.want, tc.wantConf)
			}
		})
	}
}

// TestRouteRealPhrases runs whole appeals through the shipped model, the resolver and the router.
func TestRouteRealPhrases(t *testing.T) {
	m, err := classify.DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	res := resolve.New(geo.Default())
	r := mustDefault(t)
	for _, tc := range []struct{ text, want string }{
		{"В Шилово на улице Спасской огромная яма на дороге, разбит асфальт", shilovo},
		{"р.п. Шилово, не работает уличное освещение на улице Советской, фонари не горят", shilovo},
		{"Город Касимов, ул. Ленина: во дворе дома не вывозят мусор", kasimov},
		{"В Рязани на Московском шоссе огромная яма на проезжей части", blago},
	} {
		p := m.Classify(tc.text)
		mu, method, ok := res.Resolve(&model.Appeal{Text: tc.text})
		got, _ := r.Route(p, mu, ok && method != resolve.MethodAgency)
		if got != tc.want {
			t.Errorf("%q (model: %s / %s; place %q ok=%v): got %q, want %q", tc.text, p.Category.Name, p.Executor.Name, mu.Name, ok, got, tc.want)
		}
	}
}

func TestRoutingDeployCopy(t *testing.T) {
	deploy, err := os.ReadFile("../../deploy/routing.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(deploy, DefaultYAML()) {
		t.Fatal("deploy/routing.yaml and processor/route/routing.yaml differ: copy the deploy file over")
	}
}

// TestAdministrationsCoverGazetteer keeps the table complete: every municipality but the city has an
// administration.
func TestAdministrationsCoverGazetteer(t *testing.T) {
	r := mustDefault(t)
	for _, m := range geo.Default().All() {
		if m.OKTMO == r.t.CityOKTMO {
			continue
		}
		if r.t.Administrations[m.OKTMO] == "" {
			t.Errorf("%s (%s) has no administration", m.Name, m.OKTMO)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := string(DefaultYAML())
	for _, tc := range []struct{ name, yaml, want string }{
		{"not yaml", "{{{", "yaml"},
		{"version", strings.Replace(good, "version: 1", "version: 3", 1), "version 3"},
		{"city", strings.Replace(good, `city_oktmo: "61701000"`, `city_oktmo: "617"`, 1), "city_oktmo"},
		{"threshold", strings.Replace(good, "threshold: 0.5", "threshold: 0", 1), "threshold"},
		{"unknown field", good + "colour: red\n", "colour"},
		{"no fallback", strings.Replace(good, `  "*": Управление благоустройства города`, "", 1), `"*"`},
		{"bad oktmo", strings.Replace(good, `"61705000":`, `"6170":`, 1), "6170"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if !errors.Is(err, ErrBadTable) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrBadTable mentioning %q", err, tc.want)
			}
		})
	}
}
