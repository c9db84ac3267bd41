package heattable_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/heattable"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/sink"
)

func TestQueryAndRender(t *testing.T) {
	conn, _ := testenv.ClickHouse(t)
	ctx := context.Background()
	from := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	var batch []*model.Appeal
	add := func(oktmo, cat string, minute int, incident bool) {
		n := len(batch)
		batch = append(batch, &model.Appeal{ID: "t:" + string(rune('a'+n)), Source: "vk", Region: model.DefaultRegion, OKTMO: oktmo,
			Category: cat, EventTime: from.Add(time.Duration(minute) * time.Minute), IsIncident: incident,
			Origin: model.Offset{Topic: "appeals.raw.vk", Partition: 0, Offset: int64(n)}})
	}
	add("61701000", "ЖКХ", 1, true)
	add("61701000", "ЖКХ", 2, false)
	add("61701000", "Дороги", 59, true)
	add("61658000", "ЖКХ", 30, true)
	add("61658000", "Дороги", 60, true) // next window: not counted
	add("61658000", "Дороги", -1, true) // previous window: not counted
	if err := sink.New(conn, sink.Config{}, nil).Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	tab, err := heattable.Query(ctx, conn, geo.Default(), model.DefaultRegion, from, from.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if tab.Total != 4 || tab.Incidents != 3 || len(tab.Rows) != 2 {
		t.Fatalf("table %+v", tab)
	}
	if r := tab.Rows[0]; r.Name != "Рязань" || r.Appeals != 3 || r.ByCategory["ЖКХ"] != 2 {
		t.Fatalf("first row %+v", r)
	}
	if r := tab.Rows[1]; r.Name != "Шиловский район" || r.Appeals != 1 {
		t.Fatalf("second row %+v", r)
	}
	if tab.Categories[0] != "ЖКХ" {
		t.Fatalf("categories %v", tab.Categories)
	}
	var buf bytes.Buffer
	if err := tab.Render(&buf, 1); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"Рязань", "Шиловский район", "ЖКХ", "прочее", "13:00–14:00"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered table lacks %q:\n%s", want, out)
		}
	}
}

// The heat table's current hour and day are the region's: at 00:30 MSK on 1 January 2027 the day is
// 1 January (from 21:00 UTC), and the day's table counts the appeal of 00:30 and not the one of 23:30 on
// 31 December, which a UTC day would have held together.
func TestTodayIsTheRegionsDay(t *testing.T) {
	now := time.Date(2026, 12, 31, 21, 30, 0, 0, time.UTC)
	from, to := heattable.Today(now, model.DefaultRegion)
	if want := time.Date(2026, 12, 31, 21, 0, 0, 0, time.UTC); !from.Equal(want) || !to.Equal(want.Add(24*time.Hour)) {
		t.Fatalf("today %s…%s, want from %s", from, to, want)
	}
	if hf, ht := heattable.CurrentHour(now, model.DefaultRegion); !hf.Equal(time.Date(2026, 12, 31, 21, 0, 0, 0, time.UTC)) || ht.Sub(hf) != time.Hour {
		t.Fatalf("current hour %s…%s", hf, ht)
	}
	conn, _ := testenv.ClickHouse(t)
	ctx := context.Background()
	batch := []*model.Appeal{
		{ID: "vk:new", Source: "vk", Region: model.DefaultRegion, OKTMO: "61701000", Category: "ЖКХ", EventTime: now, IsIncident: true,
			Origin: model.Offset{Topic: "appeals.raw.vk", Partition: 0, Offset: 0}},
		{ID: "vk:old", Source: "vk", Region: model.DefaultRegion, OKTMO: "61701000", Category: "ЖКХ", EventTime: now.Add(-time.Hour), IsIncident: true,
			Origin: model.Offset{Topic: "appeals.raw.vk", Partition: 0, Offset: 1}},
	}
	if err := sink.New(conn, sink.Config{}, nil).Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	tab, err := heattable.Query(ctx, conn, geo.Default(), model.DefaultRegion, from, to)
	if err != nil || tab.Total != 1 {
		t.Fatalf("today's table holds %d appeals (%v), want 1", tab.Total, err)
	}
	var buf bytes.Buffer
	if err := tab.Render(&buf, 3); err != nil || !strings.Contains(buf.String(), "01.01 00:00–00:00 МСК: 1") {
		t.Fatalf("rendered:\n%s %v", buf.String(), err)
	}
}
