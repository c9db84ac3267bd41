package classify

// axpy adds a·x to dst element by element (len(x) ≥ len(dst)). It is the inner loop of the linear
// scores and of the stacker, about a tenth of a text's classification: unrolled by four with the bounds
// checks hoisted. Every element is still computed as dst[i] + a*x[i], so results are bit for bit those
// of the plain loop.
func axpy(dst, x []float32, a float32) {
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
