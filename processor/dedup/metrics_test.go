package dedup

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestDecisionsCounted checks teplokarta_dedup_decisions_total against the decisions Decide returned,
// kind by kind, over batches that hold incidents, voices and exact duplicates.
func TestDecisionsCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := DefaultConfig()
	cfg.Registerer = reg
	d, err := NewLocal(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	gen := newStreamGen(3)
	want := map[Kind]float64{}
	for range 5 {
		batch := gen.batch(400)
		for i := 0; i < 40; i++ { // the same source id under another offset: an exact duplicate
			dup := *batch[i]
			dup.Origin.Offset += 1_000_000
			batch = append(batch, &dup)
		}
		decs, err := d.Decide(context.Background(), batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, dec := range decs {
			want[dec.Kind]++
		}
	}
	if want[Incident] == 0 || want[Voice] == 0 || want[ExactDuplicate] == 0 {
		t.Fatalf("the stream lacks a kind: %v", want)
	}
	m, err := newMetricsView(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []Kind{Incident, Voice, ExactDuplicate} {
		if got := testutil.ToFloat64(m.WithLabelValues(k.String())); got != want[k] {
			t.Errorf("%s: counter %v, decisions %v", k, got, want[k])
		}
	}
}

// newMetricsView finds the registered decisions counter.
func newMetricsView(reg *prometheus.Registry) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "teplokarta_dedup_decisions_total",
		Help: "Dedup decisions by kind (incident, voice, exact_duplicate, replay)."}, []string{"kind"})
	if err := reg.Register(c); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			return are.ExistingCollector.(*prometheus.CounterVec), nil
		}
		return nil, err
	}
	return c, nil
}
