package slaview

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/testenv"
)

func TestShort(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Администрация Ермишинского муниципального района Рязанской области", "Адм. Ермишинского р-на"},
		{"Администрация муниципального образования - городской округ город Скопин Рязанской области", "Адм. г.о. Скопин"},
		{"Администрация города Сасово", "Адм. г. Сасово"},
		{"Министерство здравоохранения  Рязанской области", "Мин. здравоохранения"},
		{"Управление энергетики и жилищно-коммунального хозяйства", "Упр. энергетики и ЖКХ"},
		{"Фонд капитального ремонта многоквартирных домов Рязанской области", "Фонд капремонта МКД"},
		{"Министерство по делам территорий и информационной политики Рязанской области", "Мин. по делам территорий и информац…"},
		{"Госжилинспекция", "Госжилинспекция"},
		{"", "у кураторов"},
	} {
		if got := Short(c.in, 36); got != c.want {
			t.Errorf("Short(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestQuery: the counts come from the latest version of each appeal (FINAL), at the given now.
func TestQuery(t *testing.T) {
	ch, _ := testenv.ClickHouse(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) // 15:00 MSK
	h := time.Hour
	const adm = "Администрация Шиловского муниципального района Рязанской области"
	rows := []struct {
		id, agency, status string
		received, deadline time.Duration // from now
		resolved           time.Duration // from now; 0: open
		version            uint64
	}{
		{"a1", adm, "assigned", -10 * h, -2 * h, 0, 1},               // overdue, received yesterday MSK
		{"a2", adm, "in_work", -9 * h, -h, 0, 2},                     // overdue, today
		{"a3", "Дороги", "assigned", -7 * h, 30 * time.Minute, 0, 1}, // at risk
		{"a4", "Дороги", "resolved", -6 * h, 2 * h, -h, 3},           // resolved on time
		{"a4", "Дороги", "assigned", -6 * h, 2 * h, 0, 1},            // its older version
		{"a5", "", "returned", -9 * h, -30 * time.Minute, 0, 2},      // overdue with the curators
		{"a6", "Дороги", "resolved", -11 * h, -3 * h, -2 * h, 4},     // resolved late
		{"a7", "Дороги", "assigned", -2 * h, 6 * h, 0, 1},            // open, fine
		{"old", adm, "assigned", -40 * 24 * h, -39 * 24 * h, 0, 1},   // beyond the lookback
	}
	b, err := ch.PrepareBatch(ctx, `INSERT INTO appeal_sla (appeal_id, region, oktmo, category, source, agency,
		status, received_time, deadline, resolved_time, breached, updated_time, version)`)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		res := time.Unix(0, 0)
		if r.resolved != 0 {
			res = now.Add(r.resolved)
		}
		if err := b.Append(r.id, "ryazan", "61656000", "ЖКХ", "vk", r.agency, r.status, now.Add(r.received),
			now.Add(r.deadline), res, uint8(0), now, r.version); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	v, err := Query(ctx, ch, DefaultConfig(), now)
	if err != nil {
		t.Fatal(err)
	}
	// Today (MSK) began at 21:00 UTC yesterday = now − 15 h: all but "old" were received today.
	want := View{Now: now, Open: 5, AtRisk: 1, Overdue: 3, TodayReceived: 7, TodayResolved: 2, TodayOnTime: 1, TodayOverdue: 3,
		Agencies: []Agency{{adm, 2, 2}, {"", 1, 1}}}
	if v.Now != want.Now || v.Open != want.Open || v.AtRisk != want.AtRisk || v.Overdue != want.Overdue ||
		v.TodayReceived != want.TodayReceived || v.TodayResolved != want.TodayResolved || v.TodayOnTime != want.TodayOnTime ||
		v.TodayOverdue != want.TodayOverdue || len(v.Agencies) != 2 || v.Agencies[0] != want.Agencies[0] || v.Agencies[1] != want.Agencies[1] {
		t.Fatalf("got %+v\nwant %+v", v, want)
	}
	var out bytes.Buffer
	if err := v.Render(&out, DefaultConfig().Location); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"открыто 5", "под угрозой (< 1 ч) 1", "просрочено сейчас 3", "в срок сегодня: 20% (1 из 5)",
		"Адм. Шиловского р-на", "у кураторов"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("render lacks %q:\n%s", s, out.String())
		}
	}
}
