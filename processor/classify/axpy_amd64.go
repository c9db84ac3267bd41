package classify

import "golang.org/x/sys/cpu"

// useAVX2 picks the vector loop; without AVX2 the portable one runs.
var useAVX2 = cpu.X86.HasAVX2

// axpyAVX2 is axpy eight lanes at a time (axpy_amd64.s). It multiplies, then adds, in two roundings
// (VMULPS, VADDPS; no fused multiply-add), so every element is bit for bit what the Go loop computes.
//
//go:noescape
func axpyAVX2(dst, x []float32, a float32)
