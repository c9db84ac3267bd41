package classify

import "golang.org/x/sys/cpu"

// useAVX2 picks the vector loop; without AVX2 the portable one runs.
var useAVX2 = cpu.X86.HasAVX2

// axpyAVX2 is axpy eight lanes at a time (axpy_amd64.s). It multiplies, then adds, in two roundings
// (VMULPS, VADDPS; no fused multiply-add), so every element is bit for bit what the Go loop computes.
//
//go:noescape
func axpyAVX2(dst, x []float32, a float32)

// axpy4AVX2 is four axpyAVX2 calls on one dst in one pass (axpy_amd64.s), bit for bit the same.
//
//go:noescape
func axpy4AVX2(dst, x0, x1, x2, x3 []float32, a *[4]float32)

// expShiftedAVX2 sets s[i] = expNeg(s[i] - mx) eight lanes at a time (fastmath_amd64.s); len(s) must be
// a multiple of 8.
//
//go:noescape
func expShiftedAVX2(s []float32, mx float32)

// logsAVX2 sets s[i] = logPos(s[i]) eight lanes at a time (fastmath_amd64.s); len(s) must be a
// multiple of 8.
//
//go:noescape
func logsAVX2(s []float32)
