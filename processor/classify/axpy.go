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

// axpyRows adds vals[k]·(row ids[k] of w) to dst for every k, in the order of ids: the linear scores'
// and the stacker's sparse product. Rows go four at a time through one pass over dst where the CPU has
// AVX2, with every element summed in the same order, so results are bit for bit axpy's one row at a time.
func axpyRows(dst, w []float32, width int, ids []int32, vals []float32) {
	row := func(k int) []float32 { return w[int(ids[k])*width : int(ids[k]+1)*width] }
	k := 0
	if useAVX2 {
		for ; k+4 <= len(ids); k += 4 {
			a := [4]float32{vals[k], vals[k+1], vals[k+2], vals[k+3]}
			x0, x1, x2, x3 := row(k)[:len(dst)], row(k + 1)[:len(dst)], row(k + 2)[:len(dst)], row(k + 3)[:len(dst)]
			axpy4AVX2(dst, x0, x1, x2, x3, &a)
		}
	}
	for ; k < len(ids); k++ {
		axpy(dst, row(k), vals[k])
	}
}
