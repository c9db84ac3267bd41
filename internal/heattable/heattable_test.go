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
