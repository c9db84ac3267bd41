package simulator

import (
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/sources"
)

// TestFirstIDGivesAStreamIdsOfItsOwn: a stream with FirstID set is the same stream — sources, places,
// times, kinds — under appeal ids no stream from 0 uses, and the processor's parsers take them.
func TestFirstIDGivesAStreamIdsOfItsOwn(t *testing.T) {
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	gen := func(first int64) []Message {
		c := DefaultConfig()
		c.Start, c.FirstID = start, first
		g, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]Message, 2000)
		for i := range out {
			out[i] = g.Next()
		}
		return out
	}
	base, shifted := gen(0), gen(time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC).UnixMilli())
	ids := map[string]bool{}
	for _, m := range base {
		ids[m.AppealID()] = true
	}
	reg := sources.Default("first-id-test-key", sources.DefaultLimits())
	shiftedIDs := map[string]bool{}
	for i, m := range shifted {
		b := base[i]
		if m.Source != b.Source || m.OKTMO != b.OKTMO || !m.EventTime.Equal(b.EventTime) || !m.Arrival.Equal(b.Arrival) || m.Kind != b.Kind {
			t.Fatalf("message %d differs beyond its id: %+v against %+v", i, m, b)
		}
		if ids[m.AppealID()] {
			t.Fatalf("message %d: id %s is also the stream from 0's", i, m.AppealID())
		}
		shiftedIDs[m.AppealID()] = true
		a, err := reg.Parse(m.Source, m.Payload, sources.Meta{ReceivedAt: m.Arrival, ContentType: m.ContentType})
		if err != nil || a.ID != m.AppealID() {
			t.Fatalf("message %d (%s): parsed as %q, %v", i, m.AppealID(), a.ID, err)
		}
	}
	if len(shiftedIDs) != len(ids) {
		t.Fatalf("%d distinct ids against %d from 0", len(shiftedIDs), len(ids))
	}
}
