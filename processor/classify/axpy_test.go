package classify

import (
	"math/rand/v2"
	"testing"
)

func TestAxpyEqualsPlainLoop(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 3, 4, 5, 8, 243, 244} {
		dst, x := make([]float32, n), make([]float32, n+3)
		for i := range dst {
			dst[i] = r.Float32()*2 - 1
		}
		for i := range x {
			x[i] = r.Float32()*2 - 1
		}
		want := append([]float32(nil), dst...)
		a := r.Float32()
		for i := range want {
			want[i] += a * x[i]
		}
		axpy(dst, x, a)
		for i := range dst {
			if dst[i] != want[i] {
				t.Fatalf("n=%d: element %d = %v, want %v", n, i, dst[i], want[i])
			}
		}
	}
}
