//go:build !amd64

package classify

const useAVX2 = false

func axpyAVX2(dst, x []float32, a float32) { axpyGo(dst, x, a) }

func axpy4AVX2(dst, x0, x1, x2, x3 []float32, a *[4]float32) {
	axpyGo(dst, x0, a[0])
	axpyGo(dst, x1, a[1])
	axpyGo(dst, x2, a[2])
	axpyGo(dst, x3, a[3])
}
