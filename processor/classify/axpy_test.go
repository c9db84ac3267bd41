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

// TestAxpyRowsEqualsOneRowAtATime checks the four-row pass against axpy row by row, in the same order,
// for row counts around its groups of four and widths around its vector steps.
func TestAxpyRowsEqualsOneRowAtATime(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, width := range []int{1, 7, 8, 9, 15, 16, 17, 24, 242, 243, 244} {
		const rows = 50
		w := make([]float32, rows*width)
		for i := range w {
			w[i] = r.Float32()*200 - 100
		}
		for _, n := range []int{0, 1, 3, 4, 5, 8, 11, 40} {
			ids, vals := make([]int32, n), make([]float32, n)
			for k := range ids {
				ids[k], vals[k] = int32(r.IntN(rows)), r.Float32()*3-1
			}
			dst := make([]float32, width)
			for i := range dst {
				dst[i] = r.Float32()*2 - 1
			}
			want := append([]float32(nil), dst...)
			for k, id := range ids {
				axpyGo(want, w[int(id)*width:int(id+1)*width], vals[k])
			}
			axpyRows(dst, w, width, ids, vals)
			for i := range dst {
				if dst[i] != want[i] {
					t.Fatalf("width %d, %d rows: element %d = %v, want %v", width, n, i, dst[i], want[i])
				}
			}
		}
	}
}

func BenchmarkAxpyRows(b *testing.B) {
	const width, rows = 242, 484
	w := make([]float32, width*rows)
	for i := range w {
		w[i] = float32(i%97) * 1e-3
	}
	ids, vals := make([]int32, 40), make([]float32, 40)
	for k := range ids {
		ids[k], vals[k] = int32(k*11%rows), float32(k)*1e-2
	}
	dst := make([]float32, width)
	b.Run("rows", func(b *testing.B) {
		for b.Loop() {
			axpyRows(dst, w, width, ids, vals)
		}
	})
	b.Run("one-by-one", func(b *testing.B) {
		for b.Loop() {
			for k, id := range ids {
				axpy(dst, w[int(id)*width:int(id+1)*width], vals[k])
			}
		}
	})
}
