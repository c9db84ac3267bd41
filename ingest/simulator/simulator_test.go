package simulator

import (
	"bytes"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/sources"
)

func gen(t *testing.T, seed uint64) *Generator {
	t.Helper()
	c := DefaultConfig()
	c.Seed = seed
	c.Rate = 0.3                                           // ~1.2 simulated days in 30k messages: the rhythm and bursts show
	c.Start = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // a Monday
	g, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestDeterministic(t *testing.T) {
	a, b, c := gen(t, 7), gen(t, 7), gen(t, 8)
	same := true
	for i := 0; i < 2000; i++ {
		x, y, z := a.Next(), b.Next(), c.Next()
		if !bytes.Equal(x.Payload, y.Payload) || !x.Arrival.Equal(y.Arrival) {
			t.Fatalf("message %d differs for the same seed", i)
		}
		same = same && bytes.Equal(x.Payload, z.Payload)
	}
	if same {
		t.Fatal("different seeds gave identical streams")
	}
}

func TestMessagesAreValidAndRealistic(t *testing.T) {
	g := gen(t, 1)
	reg := sources.Default("salt", sources.DefaultLimits())
	truth := NewTruth()
	seen := map[string]bool{}
	bySource := map[string]int{}
	hourly := map[int]int{}
	var prev time.Time
	const n = 30000
	for i := 0; i < n; i++ {
		m := g.Next()
		if m.Arrival.Before(prev) {
			t.Fatalf("message %d arrives before the previous one", i)
		}
		prev = m.Arrival
		a, err := reg.Parse(m.Source, m.Payload, sources.Meta{ReceivedAt: m.Arrival})
		if err != nil {
			t.Fatalf("message %d (%s) does not parse: %v\n%s", i, m.Source, err, m.Payload)
		}
		if a.ID != m.AppealID() || !a.EventTime.Equal(m.EventTime) {
			t.Fatalf("message %d: parsed id %s time %s, simulated %s %s", i, a.ID, a.EventTime, m.AppealID(), m.EventTime)
		}
		if (m.Source == model.Source112 || m.Source == model.SourcePOS) && a.Hints.OKTMO != m.OKTMO {
			t.Fatalf("message %d: OKTMO hint %q, want %q", i, a.Hints.OKTMO, m.OKTMO)
		}
		if m.Kind == KindRetry != seen[m.AppealID()] {
			t.Fatalf("message %d: retry flag %v but id seen before = %v", i, m.Kind == KindRetry, seen[m.AppealID()])
		}
		seen[m.AppealID()] = true
		bySource[m.Source]++
		hourly[m.Arrival.In(moscow).Hour()]++
		truth.Add(m)
	}
	if len(truth.ByMunicipality()) != 29 {
		t.Errorf("appeals cover %d municipalities, want all 29", len(truth.ByMunicipality()))
	}
	dups := float64(truth.Retries+truth.Voices) / float64(truth.Messages) // exact and cross-source
	if dups < 0.10 || dups > 0.30 {
		t.Errorf("duplicate share %.3f outside [0.10, 0.30]", dups)
	}
	if truth.Late == 0 || truth.Retries == 0 || truth.Voices == 0 || truth.NearVoices == 0 {
		t.Errorf("missing scenario: late=%d retries=%d voices=%d near=%d", truth.Late, truth.Retries, truth.Voices, truth.NearVoices)
	}
	for _, s := range model.KnownSources {
		if bySource[s] < n/100 {
			t.Errorf("source %s has only %d messages", s, bySource[s])
		}
	}
	if hourly[10] < 2*hourly[3] {
		t.Errorf("no daily rhythm: 10h=%d 3h=%d", hourly[10], hourly[3])
	}
	rz := truth.ByMunicipality()["61701000"]
	if rz < truth.Appeals/3 {
		t.Errorf("Рязань has %d of %d appeals; it is most of the region's population", rz, truth.Appeals)
	}
}
