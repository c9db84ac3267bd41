package classify

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAbove checks above (the vector form where the CPU has AVX2) against the plain loop on every length
// up to three vectors and a tail, with the first value above the bar at every position, values equal to
// the bar, negative zero and NaN.
func TestAbove(t *testing.T) {
	nan := float32(math.NaN())
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n <= 27; n++ {
		for pos := -1; pos < n; pos++ {
			for _, special := range []float32{0.5, 0.25, float32(math.Copysign(0, -1)), nan, 0.7} {
				s := make([]float32, n)
				for i := range s {
					s[i] = r.Float32() * 0.5 // below the bar of 0.5, or equal to it
					if i%5 == 4 {
						s[i] = 0.5
					}
				}
				if pos >= 0 {
					s[pos] = special
				}
				want := aboveGo(s, 0.5)
				if got := above(s, 0.5); got != want {
					t.Fatalf("n=%d pos=%d special=%v: above = %d, want %d", n, pos, special, got, want)
				}
				if wantPos := pos; pos >= 0 && (special == 0.7 || special != special) && want != wantPos {
					t.Fatalf("n=%d pos=%d special=%v: aboveGo = %d", n, pos, special, want)
				}
			}
		}
	}
}

// TestMaxOf checks maxOf against the plain loop on every length up to three vectors and a tail, with the
// maximum at every position, a NaN first (it wins) or elsewhere (it never does) and ties of ±0.
func TestMaxOf(t *testing.T) {
	nan, negZero := float32(math.NaN()), float32(math.Copysign(0, -1))
	plain := func(s []float32) float32 {
		mx := s[0]
		for _, v := range s[1:] {
			if v > mx {
				mx = v
			}
		}
		return mx
	}
	r := rand.New(rand.NewPCG(5, 6))
	for n := 1; n <= 27; n++ {
		for pos := 0; pos < n; pos++ {
			for _, special := range []float32{3, nan, negZero, float32(math.Inf(-1))} {
				s := make([]float32, n)
				for i := range s {
					s[i] = -r.Float32() * 10
				}
				s[pos] = special
				if special == negZero {
					s[(pos+1)%n] = 0
				}
				want, got := plain(s), maxOf(s)
				same := got == want || got != got && want != want
				if !same {
					t.Fatalf("n=%d pos=%d special=%v: maxOf = %v, want %v (%v)", n, pos, special, got, want, s)
				}
			}
		}
	}
}
