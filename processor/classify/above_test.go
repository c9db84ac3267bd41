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
