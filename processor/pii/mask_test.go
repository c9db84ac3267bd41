package pii

import (
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	m := New()
	tests := []struct{ in, want string }{
		{"Звоните +7 (912) 345-67-89, Иван", "Звоните [телефон], Иван"},
		{"мой телефон 8 912 345 67 89.", "мой телефон [телефон]."},
		{"пишите ivan.petrov@mail.ru срочно", "пишите [email] срочно"},
		{"карта 4276 1234 5678 9012 заблокирована", "карта [карта] заблокирована"},
		{"СНИЛС 123-456-789 01", "СНИЛС [снилс]"},
		{"паспорт 61 09 123456", "паспорт [документ]"},
		{"домашний 24-56-78", "домашний [телефон]"},
		{"В доме 15 по улице Ленина нет воды с 8 утра", "В доме 15 по улице Ленина нет воды с 8 утра"},
		{"2026 год, 12 домов, 300 жителей", "2026 год, 12 домов, 300 жителей"},
	}
	for _, tc := range tests {
		if got := m.Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// maskAll is Mask without the shortcuts: every rule on every text, names without the pre-check.
func (m *Masker) maskAll(text string) string {
	for _, r := range m.rules {
		text = r.re.ReplaceAllString(text, r.with)
	}
	var b strings.Builder
	last := 0
	for _, s := range m.names.find(text, tokenize(text, nil), nil) {
		b.WriteString(text[last:s.start] + nameToken)
		last = s.end
	}
	return b.String() + text[last:]
}

// The digit and byte shortcuts must never let personal data through: on texts built from the pieces
// personal data is made of, Mask answers what running every rule answers.
func TestMaskShortcutsChangeNothing(t *testing.T) {
	m := New()
	pieces := []string{"8", "+7", "912", "345", "67", "89", "-", " ", "(", ")", "4276", "1234", "№", "61", "09",
		"123456", "123-456-789", "01", "ivan", "@", "mail.ru", "улица", "дом 15", ",", ".", "ё", "24-56-78",
		" Иванов", " иван", " петрович", " И.", " П. ", " Анна", " Ивановна", "ИВАНОВ", " звонит", " ич", " вн"}
	rnd := uint64(1)
	next := func(n int) int { rnd = rnd*6364136223846793005 + 1442695040888963407; return int(rnd>>33) % n }
	masked := 0
	const texts = 12000 // about 1,800 of them hold personal data (30,000 cost ~50 s under -race on a busy machine)
	for i := 0; i < texts; i++ {
		var b []byte
		for range 1 + next(12) {
			b = append(b, pieces[next(len(pieces))]...)
		}
		s := string(b)
		got, want := m.Mask(s), m.maskAll(s)
		if got != want {
			t.Fatalf("Mask(%q) = %q, every rule gives %q", s, got, want)
		}
		if got != s {
			masked++
		}
	}
	if masked < 60 {
		t.Fatalf("only %d of the generated texts held personal data: the test exercises nothing", masked)
	}
	t.Logf("%d of %d generated texts were masked", masked, texts)
}

func BenchmarkMask(b *testing.B) {
	m := New()
	texts := []string{
		"В доме 15 по улице Ленина нет горячей воды уже третий день, управляющая компания не отвечает",
		"Яма на дороге у дома 12 по ул. Есенина, пробил колесо. Звоните 8 912 345 67 89",
		"Не вывозят мусор с контейнерной площадки во дворе домов 3 и 5 по улице Гагарина",
	}
	for i := 0; b.Loop(); i++ {
		m.Mask(texts[i%len(texts)])
	}
}
