//go:build !amd64

package classify

const useAVX2 = false

func axpyAVX2(dst, x []float32, a float32) { axpyGo(dst, x, a) }
