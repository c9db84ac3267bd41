package classify

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// ulps is the distance of got from want in float32 units in the last place.
func ulps(got, want float32) int64 {
	a, b := int64(math.Float32bits(got)), int64(math.Float32bits(want))
	if a > b {
		return a - b
	}
	return b - a
}

func TestExpNeg(t *testing.T) {
	worst, at := int64(0), float32(0)
	// Every 5th float32 from expMin to 0: the softmax's range.
	for b := math.Float32bits(expMin); b > 0x80000000; b -= 5 {
		x := math.Float32frombits(b)
		if d := ulps(expNeg(x), float32(math.Exp(float64(x)))); d > worst {
			worst, at = d, x
		}
	}
	if worst > 2 {
		t.Errorf("expNeg is %d ulps off at %g", worst, at)
	}
	for _, tc := range []struct{ x, want float32 }{
		{0, 1}, {-1e-30, 1}, {-88, 0}, {-1e30, 0}, {float32(math.Inf(-1)), 0},
	} {
		if got := expNeg(tc.x); got != tc.want {
			t.Errorf("expNeg(%g) = %g, want %g", tc.x, got, tc.want)
		}
	}
}

func TestLogPos(t *testing.T) {
	worst, at := int64(0), float32(0)
	// Every 3rd float32 from the smallest normal to 1e4: the stacker's blends lie in [1e-4, 1+1e-4].
	for b := uint32(0x00800000); math.Float32frombits(b) < 1e4; b += 3 {
		x := math.Float32frombits(b)
		if d := ulps(logPos(x), float32(math.Log(float64(x)))); d > worst {
			worst, at = d, x
		}
	}
	if worst > 2 {
		t.Errorf("logPos is %d ulps off at %g", worst, at)
	}
}

// TestFastMathAVX2MatchesGo checks the vector code lane by lane against the Go functions, bit for bit,
// on the values a classification meets and on the edges.
func TestFastMathAVX2MatchesGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	r := rand.New(rand.NewPCG(1, 2))
	edges := []float32{0, -1e-30, expMin, -87.3, -87.34, -88, -1e30, float32(math.Inf(-1)), -0.5 * math.Ln2, 0.5 * math.Ln2}
	for round := range 2000 {
		s := make([]float32, 8*(1+round%5))
		for i := range s {
			switch round % 3 {
			case 0:
				s[i] = edges[r.IntN(len(edges))]
			case 1:
				s[i] = -r.Float32() * 30
			default:
				s[i] = -r.Float32() * 90
			}
		}
		mx := float32(0)
		if round%2 == 1 {
			mx = r.Float32() * 5
			for i := range s {
				s[i] += mx
			}
		}
		got := append([]float32(nil), s...)
		expShiftedAVX2(got, mx)
		for i, x := range s {
			if want := expNeg(x - mx); math.Float32bits(got[i]) != math.Float32bits(want) {
				t.Fatalf("exp lane of %g - %g: AVX2 %g (%#x), Go %g (%#x)", x, mx, got[i], math.Float32bits(got[i]), want, math.Float32bits(want))
			}
		}
		for i := range s {
			switch round % 3 {
			case 0:
				s[i] = []float32{1e-4, 1, 0.70710677, 0.7071068, 1.0001, math.SmallestNonzeroFloat32 * (1 << 23), math.MaxFloat32}[r.IntN(7)]
			default:
				s[i] = 1e-4 + r.Float32()
			}
		}
		got = append(got[:0], s...)
		logsAVX2(got)
		for i, x := range s {
			if want := logPos(x); math.Float32bits(got[i]) != math.Float32bits(want) {
				t.Fatalf("log lane of %g: AVX2 %g, Go %g", x, got[i], want)
			}
		}
	}
}

func TestSoftmax32(t *testing.T) {
	s := []float32{1, 2, 3, -50, 3, 0.5, 2, 2, 9, -3, 4}
	want := make([]float64, len(s))
	for i, v := range s {
		want[i] = float64(v)
	}
	softmax(want)
	softmax32(s)
	var sum float32
	for i, v := range s {
		sum += v
		if math.Abs(float64(v)-want[i]) > 1e-6 {
			t.Errorf("softmax32[%d] = %g, want %g", i, v, want[i])
		}
	}
	if math.Abs(float64(sum)-1) > 1e-6 {
		t.Errorf("softmax32 sums to %g", sum)
	}
}

func BenchmarkSoftmax(b *testing.B) {
	s := make([]float32, 148)
	fill := func() {
		for i := range s {
			s[i] = float32(i%37) * 0.3
		}
	}
	b.Run("math", func(b *testing.B) {
		for b.Loop() {
			fill()
			softmax(s)
		}
	})
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			fill()
			softmax32(s)
		}
	})
}

func TestTop3(t *testing.T) {
	for _, tc := range []struct {
		p    []float32
		want []int
	}{
		{nil, nil},
		{[]float32{0.5}, []int{0}},
		{[]float32{0.2, 0.8}, []int{1, 0}},
		{[]float32{0.1, 0.3, 0.2, 0.4}, []int{3, 1, 2}},
		{[]float32{0.25, 0.25, 0.25, 0.25}, []int{0, 1, 2}}, // ties go to the lower index
		{[]float32{0.1, 0.1, 0.3, 0.1, 0.3, 0.1}, []int{2, 4, 0}},
		{[]float32{0.05, 0.05, 0.05, 0.05, 0.8}, []int{4, 0, 1}},
	} {
		idx, n := top3(tc.p)
		if got := idx[:n]; !slices.Equal(got, tc.want) && (n > 0 || len(tc.want) > 0) {
			t.Errorf("top3(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}
