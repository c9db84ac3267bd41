package classify

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestTaxonomyDeployCopy keeps the embedded default identical to the file curators edit.
func TestTaxonomyDeployCopy(t *testing.T) {
	deploy, err := os.ReadFile("../../deploy/taxonomy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(deploy, DefaultTaxonomyYAML()) {
		t.Fatal("deploy/taxonomy.yaml and processor/classify/taxonomy/default.yaml differ: copy the deploy file over")
	}
}

func TestTaxonomyMatch(t *testing.T) {
	tax := mustTaxonomy(t)
	for _, tc := range []struct {
		text, category, theme, executor string
	}{
		{"В аптеках на Московском шоссе нет масок, коронавирус, люди в панике", "Коронавирус", "Аптеки и лекарства", "Министерство здравоохранения  Рязанской области"},
		{"Работодатель заставляет ходить в офис во время самоизоляции, не переводит на удалёнку", "Коронавирус", "Работодатели и условия труда", "Министерство труда и социальной защиты населения Рязанской области"},
		{"Врач из поликлиники не пришёл, хотя у меня подтверждённый COVID-19", "Коронавирус", "Врачи, тесты и госпитализация", "Министерство здравоохранения  Рязанской области"},
		{"Где сделать прививку от ковида в Рязани?", "Коронавирус", "Вакцинация", "Министерство здравоохранения  Рязанской области"},
		{"Пандемия, а транспорт ходит переполненный", "Коронавирус", "Коронавирус — иные вопросы", "Министерство здравоохранения  Рязанской области"},
		{"Соцработник не приходит к моей маме-инвалиду уже две недели", "Соцобслуживание", "Надомное социальное обслуживание", "Министерство труда и социальной защиты населения Рязанской области"},
		{"В доме-интернате для престарелых плохо кормят", "Соцобслуживание", "Стационарные учреждения соцобслуживания", "Министерство труда и социальной защиты населения Рязанской области"},
		{"Региональный оператор выставил квитанцию за вывоз ТКО на умершего", "Вывоз мусора / ТКО", "Начисления за вывоз ТКО", "Министерство природопользования Рязанской области"},
	} {
		m, ok := tax.Match(tc.text)
		if !ok || m.Category != tc.category || m.Theme != tc.theme || m.Executor != tc.executor {
			t.Errorf("%q: got %+v (matched %v), want %s / %s / %s", tc.text, m, ok, tc.category, tc.theme, tc.executor)
		}
	}
	for _, text := range []string{
		"Не работает уличное освещение на улице Каширина",
		"Яма на дороге, разбит асфальт",
		"Тестовое обращение, чётко и по делу",         // «тко» inside a word is not ТКО
		"Школа-интернат просит отремонтировать крышу", // not a social-care home
		"",
	} {
		if m, ok := tax.Match(text); ok {
			t.Errorf("%q: unexpected match %+v", text, m)
		}
	}
}

// TestEngineRulePrecedence checks that a rule overrides the model and keeps the model's answers after it.
func TestEngineRulePrecedence(t *testing.T) {
	m, err := DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	p := NewEngine(m, mustTaxonomy(t)).Classify("Коронавирус: в аптеке на улице Ленина нет лекарств")
	if p.Category.Name != "Коронавирус" || p.Category.Conf != RuleConf || p.Rule == "" {
		t.Fatalf("rule did not win: %+v", p)
	}
	if len(p.Top3.Category) != 3 || p.Top3.Category[0].Name != "Коронавирус" || p.Top3.Category[1].Name == "Коронавирус" {
		t.Fatalf("top3 %+v", p.Top3.Category)
	}
	plain := NewEngine(m, nil).Classify("Коронавирус: в аптеке на улице Ленина нет лекарств")
	if plain.Category.Name == "Коронавирус" || plain.Rule != "" {
		t.Fatalf("without a taxonomy the model alone answers, got %+v", plain)
	}
}

func TestParseTaxonomyErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"not yaml", "{{{", "yaml"},
		{"version", "version: 2\ncategories: []\n", "version 2"},
		{"unknown field", "version: 1\ncategories:\n  - name: A\n    colour: red\n", "colour"},
		{"empty name", "version: 1\ncategories:\n  - name: ''\n", "empty name"},
		{"duplicate", "version: 1\ncategories:\n  - name: A\n  - name: A\n", "duplicate"},
		{"bad regex", "version: 1\ncategories:\n  - name: A\n    executor: X\n    rules:\n      - regex: '(('\n", "rules[0]"},
		{"empty rule", "version: 1\ncategories:\n  - name: A\n    executor: X\n    rules:\n      - not: [b]\n", "needs any"},
		{"no executor", "version: 1\ncategories:\n  - name: A\n    rules:\n      - any: [a]\n", "needs an executor"},
		{"unreachable sub-item", "version: 1\ncategories:\n  - name: A\n    themes:\n      - name: B\n        rules: [{any: [b]}]\n", "sub-items need"},
		{"sub-item without rules", "version: 1\ncategories:\n  - name: A\n    executor: X\n    rules: [{any: [a]}]\n    themes:\n      - name: B\n", "needs rules"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTaxonomy([]byte(tc.yaml))
			if !errors.Is(err, ErrBadTaxonomy) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrBadTaxonomy mentioning %q", err, tc.want)
			}
		})
	}
}

// TestRulesQuietOnPortalData checks that the taxonomy's rules, which add topics the portal lacks, do not
// override the portal's own labels. It needs the shared training data and skips without it.
func TestRulesQuietOnPortalData(t *testing.T) {
	ex := portalExamples(t)
	tax := mustTaxonomy(t)
	hits := 0
	for _, e := range ex {
		if m, ok := tax.Match(e.Text); ok {
			hits++
			t.Logf("%s fires on %q (%s)", m.Rule, e.Text[:min(len(e.Text), 80)], e.Category)
		}
	}
	if hits > len(ex)/200 {
		t.Fatalf("rules fire on %d of %d portal texts", hits, len(ex))
	}
}

// BenchmarkTaxonomyMatch runs the shipped rules over the portal's texts, which they almost never fire on:
// the cost every text pays before the model.
func BenchmarkTaxonomyMatch(b *testing.B) {
	tax := mustTaxonomy(b)
	var texts []string
	for _, ex := range portalExamples(b) {
		texts = append(texts, ex.Text)
	}
	for i := 0; b.Loop(); i++ {
		tax.Match(texts[i%len(texts)])
	}
}
