package classify

import (
	"math/rand/v2"
	"testing"
)

func TestAxpyEqualsPlainLoop(t *testing.T) {
	impls := map[string]func(dst, x []float32, a float32){"axpy": axpy, "axpyGo": axpyGo}
	if useAVX2 {
		impls["axpyAVX2"] = axpyAVX2
	} else {
		t.Log("no AVX2 here: the vector loop is not exercised")
	}
	r := rand.New(rand.NewPCG(1, 2))
	lengths := []int{243, 244, 488, 1000}
	for n := range 41 {
		lengths = append(lengths, n)
	}
	for name, f := range impls {
		for _, n := range lengths {
			for _, skew := range []int{0, 1, 3} { // unaligned starts
				buf, x := make([]float32, n+skew), make([]float32, n+3+skew)
				dst := buf[skew:]
				for i := range buf {
					buf[i] = r.Float32()*2 - 1
				}
				for i := range x {
					x[i] = r.Float32()*200 - 100
				}
				x = x[skew:]
				want := append([]float32(nil), dst...)
				a := r.Float32()*3 - 1
				for i := range want {
					want[i] += a * x[i]
				}
				f(dst, x, a)
				for i := range dst {
					if dst[i] != want[i] {
						t.Fatalf("%s n=%d skew=%d: element %d = %v, want %v", name, n, skew, i, dst[i], want[i])
					}
				}
			}
		}
	}
}

func BenchmarkAxpy(b *testing.B) {
	dst, x := make([]float32, 244), make([]float32, 244)
	for i := range x {
		x[i] = float32(i)
	}
	for _, bc := range []struct {
		name string
		f    func(dst, x []float32, a float32)
	}{{"go", axpyGo}, {"dispatch", axpy}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				bc.f(dst, x, 1e-3)
			}
		})
	}
}
