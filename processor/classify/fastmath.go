package classify

import "math"

// A classification computes about 730 exponentials and logarithms: two softmaxes over the 242 classes of
// all heads and the stacker's log offsets. In float64 math.Exp/math.Log they were a third of its CPU,
// and bought no accuracy: the model's arithmetic is float32 throughout. expNeg and logPos are Cephes'
// float32 expf and logf, within 2 ulps of the float32-rounded float64 results (TestExpNeg, TestLogPos);
// amd64 runs them eight lanes at a time (fastmath_amd64.s) with the same operations in the same order,
// so both paths give the same bits (TestFastMathAVX2MatchesGo). Every product below is converted to
// float32 before it is added so that no compiler fuses it into a multiply-add, which the vector code
// does not do.

const (
	expMin     = -87.33              // below it e^x is subnormal; expNeg returns 0
	roundMagic = 12582912            // 1.5·2^23: adding then subtracting it rounds to an integer, ties to even
	log2e      = 1.44269504088896341 // 1/ln 2
	ln2Hi      = 0.693359375         // ln 2 split in two so that n·ln2Hi is exact for the exponents met here
	ln2Lo      = -2.12194440e-4
	sqrtHalf   = 0.70710677

	expC0, expC1, expC2 = 1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3
	expC3, expC4, expC5 = 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1

	logC0, logC1, logC2 = 7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1
	logC3, logC4, logC5 = -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1
	logC6, logC7, logC8 = 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1
)

// expNeg returns e^x for x ≤ 0 (a softmax's scores less their maximum); 0 below expMin, where the terms
// cannot move a sum of at least 1.
func expNeg(x float32) float32 {
	if x < expMin {
		return 0
	}
	// x = f·ln2 + r with |r| ≤ ln2/2, so e^x = 2^f · e^r.
	f := float32(float32(x*log2e)+roundMagic) - roundMagic
	r := float32(x-float32(f*ln2Hi)) - float32(f*ln2Lo)
	z := float32(r * r)
	p := float32(float32(expC0*r) + expC1)
	p = float32(float32(p*r) + expC2)
	p = float32(float32(p*r) + expC3)
	p = float32(float32(p*r) + expC4)
	p = float32(float32(p*r) + expC5)
	y := float32(float32(float32(p*z)+r) + 1)
	return y * math.Float32frombits(uint32(int32(f)+127)<<23)
}

// logPos returns the natural logarithm of a positive, normal, finite x (the stacker's blends are at
// least stackEps).
func logPos(x float32) float32 {
	b := math.Float32bits(x)
	// x = m·2^e with m in [√½, √2); log x = e·ln2 + log m.
	e := int32(b>>23) - 126
	m := math.Float32frombits(b&0x007fffff | 0x3f000000) // in [½, 1)
	if m < sqrtHalf {
		e--
		m += m
	}
	m--
	z := float32(m * m)
	y := float32(float32(logC0*m) + logC1)
	y = float32(float32(y*m) + logC2)
	y = float32(float32(y*m) + logC3)
	y = float32(float32(y*m) + logC4)
	y = float32(float32(y*m) + logC5)
	y = float32(float32(y*m) + logC6)
	y = float32(float32(y*m) + logC7)
	y = float32(float32(y*m) + logC8)
	y = float32(float32(y*m) * z)
	fe := float32(e)
	y += float32(ln2Lo * fe)
	y -= float32(0.5 * z)
	return float32(m+y) + float32(ln2Hi*fe)
}

// expShifted sets every s[i] to expNeg(s[i] - mx).
func expShifted(s []float32, mx float32) {
	i := 0
	if useAVX2 {
		i = len(s) &^ 7
		expShiftedAVX2(s[:i], mx)
	}
	for ; i < len(s); i++ {
		s[i] = expNeg(s[i] - mx)
	}
}

// logs sets every s[i] to logPos(s[i]).
func logs(s []float32) {
	i := 0
	if useAVX2 {
		i = len(s) &^ 7
		logsAVX2(s[:i])
	}
	for ; i < len(s); i++ {
		s[i] = logPos(s[i])
	}
}

// softmax32 is softmax for the model's float32 scores, with expNeg. The maximum is taken with a plain
// comparison (the builtin max orders NaNs and signed zeros, a branchy call per element that cost as much
// as the exponentials), and the sum's reciprocal multiplies.
func softmax32(s []float32) {
	if len(s) == 0 {
		return
	}
	mx := maxOf(s)
	expShifted(s, mx)
	var sum float32
	for _, v := range s {
		sum += v
	}
	inv := 1 / sum
	for i := range s {
		s[i] *= inv
	}
}
