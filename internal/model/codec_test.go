package model_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/ingest/simulator"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
)

// parsedAppeals parses simulated raw messages of all four sources and adds what the processor does.
func parsedAppeals(t testing.TB, n int) []*model.Appeal {
	t.Helper()
	cfg := simulator.DefaultConfig()
	cfg.Seed, cfg.Start = 5, time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	g, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg := sources.Default("test", sources.DefaultLimits())
	var out []*model.Appeal
	for len(out) < n {
		m := g.Next()
		a, err := reg.Parse(m.Source, m.Payload, sources.Meta{ReceivedAt: m.Arrival, ContentType: m.ContentType})
		if err != nil {
			continue
		}
		a.OKTMO, a.Municipality, a.Category = m.OKTMO, "Рязань", m.Category
		a.CategoryConf, a.Fingerprint, a.IsLate = 0.75, uint64(len(out))*0x9e3779b97f4a7c15, len(out)%3 == 0
		a.Origin = model.Offset{Topic: model.RawTopic(m.Source), Partition: len(out) % 4, Offset: int64(len(out)) << 20}
		out = append(out, a)
	}
	return out
}

func sameAppeal(t *testing.T, got, want *model.Appeal) {
	t.Helper()
	for _, p := range []struct{ g, w time.Time }{{got.EventTime, want.EventTime}, {got.ReceivedTime, want.ReceivedTime},
		{got.Hints.Deadline, want.Hints.Deadline}} {
		_, go1 := p.g.Zone()
		_, wo := p.w.Zone()
		if !p.g.Equal(p.w) || go1 != wo || p.g.IsZero() != p.w.IsZero() {
			t.Fatalf("%s: time %v, want %v", want.ID, p.g, p.w)
		}
	}
	g, w := *got, *want
	g.EventTime, g.ReceivedTime, g.Hints.Deadline = time.Time{}, time.Time{}, time.Time{}
	w.EventTime, w.ReceivedTime, w.Hints.Deadline = time.Time{}, time.Time{}, time.Time{}
	if len(w.Attachments) == 0 {
		w.Attachments = nil
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %+v\nwant %+v", want.ID, g, w)
	}
}

func TestEnrichedRoundTrip(t *testing.T) {
	appeals := parsedAppeals(t, 400)
	moscow := time.FixedZone("MSK", 3*3600)
	extra := &model.Appeal{ID: "x:1", Text: "ёлки\x00\n", Attachments: []string{"", "https://a/b"}, Lat: -0.0, Lon: 179.99,
		EventTime: time.Date(2026, 3, 1, 2, 3, 4, 5, moscow), Hints: model.Hints{Deadline: time.Unix(1, 2).UTC(), Lead: "Пожар. "},
		IsIncident: true, IncidentID: "x:1", Origin: model.Offset{Topic: "t", Partition: -1, Offset: -5}}
	sources := map[string]bool{}
	for _, a := range append(appeals, extra) {
		v := model.AppendEnriched(nil, a)
		var back model.Appeal
		if err := model.ReadEnriched(v, &back); err != nil {
			t.Fatalf("%s: %v", a.ID, err)
		}
		sameAppeal(t, &back, a)
		if w := model.AppendEnriched(nil, &back); string(w) != string(v) {
			t.Fatalf("%s: encoding the decoded appeal gives other bytes", a.ID)
		}
		sources[a.Source] = true
	}
	if len(sources) < 4 {
		t.Fatalf("sources %v: want all four", sources)
	}
}

// Every cut of a record, and a record of another format, is an error, never a panic or a short appeal.
func TestEnrichedRejectsDamage(t *testing.T) {
	a := parsedAppeals(t, 1)[0]
	a.Attachments = []string{"https://x/1.jpg"}
	v := model.AppendEnriched(nil, a)
	for n := range len(v) {
		var back model.Appeal
		if err := model.ReadEnriched(v[:n], &back); !errors.Is(err, model.ErrBadEnriched) {
			t.Fatalf("cut at %d of %d: %v, want ErrBadEnriched", n, len(v), err)
		}
	}
	var back model.Appeal
	if err := model.ReadEnriched(append(v, 0), &back); !errors.Is(err, model.ErrBadEnriched) {
		t.Fatalf("a byte too many: %v", err)
	}
	other := append([]byte{99}, v[1:]...)
	if err := model.ReadEnriched(other, &back); !errors.Is(err, model.ErrBadEnriched) {
		t.Fatalf("another version: %v", err)
	}
	if err := model.ReadEnriched([]byte(`{"ID":"vk:1"}`), &back); !errors.Is(err, model.ErrBadEnriched) {
		t.Fatalf("JSON: %v", err)
	}
}

// BenchmarkReadEnriched decodes the enriched records of 200 parsed simulated appeals in turn: what the
// second stage of --dedup-state partition does per appeal.
func BenchmarkReadEnriched(b *testing.B) {
	appeals := parsedAppeals(b, 200)
	recs := make([][]byte, len(appeals))
	for i, a := range appeals {
		recs[i] = model.AppendEnriched(nil, a)
	}
	b.ReportAllocs()
	var a model.Appeal
	for i := 0; b.Loop(); i++ {
		if err := model.ReadEnriched(recs[i%len(recs)], &a); err != nil {
			b.Fatal(err)
		}
	}
}
