package classify

// axpy adds a·x to dst element by element (len(x) ≥ len(dst)). It is the inner loop of the linear
// scores and of the stacker, the largest single cost of classifying a long text, so amd64 runs it with
// AVX2 where the CPU has it. Every element is computed as dst[i] + a*x[i] either way, so results are bit
// for bit those of the plain loop.
func axpy(dst, x []float32, a float32) {
	x = x[:len(dst)] // the bounds the assembly relies on
	if useAVX2 {
		axpyAVX2(dst, x, a)
		return
	}
	axpyGo(dst, x, a)
}

// axpyGo is the portable axpy: unrolled by four with the bounds checks hoisted.
func axpyGo(dst, x []float32, a float32) {
	x = x[:len(dst)]
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		d, s := dst[i:i+4:i+4], x[i:i+4:i+4]
		d[0] += a * s[0]
		d[1] += a * s[1]
		d[2] += a * s[2]
		d[3] += a * s[3]
	}
	for ; i < len(dst); i++ {
		dst[i] += a * x[i]
	}
}
