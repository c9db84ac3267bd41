#include "textflag.h"

// func axpyAVX2(dst, x []float32, a float32)
// dst[i] += a * x[i] for i < len(dst); the caller guarantees len(x) >= len(dst).
TEXT ·axpyAVX2(SB), NOSPLIT, $0-52
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	VBROADCASTSS a+48(FP), Y0

loop16:
	CMPQ    CX, $16
	JL      loop8
	VMULPS  (SI), Y0, Y1
	VMULPS  32(SI), Y0, Y2
	VADDPS  (DI), Y1, Y1
	VADDPS  32(DI), Y2, Y2
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     loop16

loop8:
	CMPQ    CX, $8
	JL      tail
	VMULPS  (SI), Y0, Y1
	VADDPS  (DI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX

tail:
	TESTQ  CX, CX
	JE     done
	VMULSS (SI), X0, X1
	VADDSS (DI), X1, X1
	VMOVSS X1, (DI)
	ADDQ   $4, SI
	ADDQ   $4, DI
	DECQ   CX
	JMP    tail

done:
	VZEROUPPER
	RET

// func axpy4AVX2(dst, x0, x1, x2, x3 []float32, a *[4]float32)
// dst[i] = (((dst[i] + a[0]*x0[i]) + a[1]*x1[i]) + a[2]*x2[i]) + a[3]*x3[i] for i < len(dst): four axpy
// calls in one pass, each product and sum rounded as they round it, with dst loaded and stored once.
// The caller guarantees len(xk) >= len(dst).
TEXT ·axpy4AVX2(SB), NOSPLIT, $0-128
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x0_base+24(FP), SI
	MOVQ         x1_base+48(FP), R8
	MOVQ         x2_base+72(FP), R9
	MOVQ         x3_base+96(FP), R10
	MOVQ         a+120(FP), AX
	VBROADCASTSS 0(AX), Y0
	VBROADCASTSS 4(AX), Y1
	VBROADCASTSS 8(AX), Y2
	VBROADCASTSS 12(AX), Y3

loop16:
	CMPQ    CX, $16
	JL      loop8
	VMOVUPS (DI), Y4
	VMOVUPS 32(DI), Y5
	VMULPS  (SI), Y0, Y6
	VMULPS  32(SI), Y0, Y7
	VADDPS  Y6, Y4, Y4
	VADDPS  Y7, Y5, Y5
	VMULPS  (R8), Y1, Y6
	VMULPS  32(R8), Y1, Y7
	VADDPS  Y6, Y4, Y4
	VADDPS  Y7, Y5, Y5
	VMULPS  (R9), Y2, Y6
	VMULPS  32(R9), Y2, Y7
	VADDPS  Y6, Y4, Y4
	VADDPS  Y7, Y5, Y5
	VMULPS  (R10), Y3, Y6
	VMULPS  32(R10), Y3, Y7
	VADDPS  Y6, Y4, Y4
	VADDPS  Y7, Y5, Y5
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ    $64, DI
	ADDQ    $64, SI
	ADDQ    $64, R8
	ADDQ    $64, R9
	ADDQ    $64, R10
	SUBQ    $16, CX
	JMP     loop16

loop8:
	CMPQ    CX, $8
	JL      tail
	VMOVUPS (DI), Y4
	VMULPS  (SI), Y0, Y6
	VADDPS  Y6, Y4, Y4
	VMULPS  (R8), Y1, Y6
	VADDPS  Y6, Y4, Y4
	VMULPS  (R9), Y2, Y6
	VADDPS  Y6, Y4, Y4
	VMULPS  (R10), Y3, Y6
	VADDPS  Y6, Y4, Y4
	VMOVUPS Y4, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, R8
	ADDQ    $32, R9
	ADDQ    $32, R10
	SUBQ    $8, CX

tail:
	TESTQ  CX, CX
	JE     done4
	VMOVSS (DI), X4
	VMULSS (SI), X0, X6
	VADDSS X6, X4, X4
	VMULSS (R8), X1, X6
	VADDSS X6, X4, X4
	VMULSS (R9), X2, X6
	VADDSS X6, X4, X4
	VMULSS (R10), X3, X6
	VADDSS X6, X4, X4
	VMOVSS X4, (DI)
	ADDQ   $4, DI
	ADDQ   $4, SI
	ADDQ   $4, R8
	ADDQ   $4, R9
	ADDQ   $4, R10
	DECQ   CX
	JMP    tail

done4:
	VZEROUPPER
	RET
