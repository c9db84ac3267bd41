#include "textflag.h"

// func aboveAVX2(s []float32, bar float32) int
// The index of the first s[i] that is not <= bar (NaN included, as the Go comparison has it), or len(s).
TEXT ·aboveAVX2(SB), NOSPLIT, $0-40
	MOVQ         s_base+0(FP), SI
	MOVQ         s_len+8(FP), CX
	VBROADCASTSS bar+24(FP), Y0
	XORQ         AX, AX

loop8:
	LEAQ      8(AX), DX
	CMPQ      DX, CX
	JG        tail
	VMOVUPS   (SI)(AX*4), Y1
	VCMPPS    $0x16, Y0, Y1, Y1 // NLE_UQ: !(s <= bar)
	VMOVMSKPS Y1, DX
	TESTL     DX, DX
	JNZ       found
	ADDQ      $8, AX
	JMP       loop8

found:
	BSFL DX, DX
	ADDQ DX, AX
	JMP  done

tail:
	CMPQ     AX, CX
	JGE      done
	VMOVSS   (SI)(AX*4), X1
	VUCOMISS X0, X1 // flags of s vs bar; unordered sets CF and ZF
	JA       done   // s > bar
	JP       done   // NaN
	INCQ     AX
	JMP      tail

done:
	VZEROUPPER
	MOVQ AX, ret+32(FP)
	RET

// func maxAVX2(s []float32, init float32) float32
// The largest of init and s's elements as the Go loop `if v > mx { mx = v }` finds it from mx = init
// (each lane keeps v > acc ? v : acc, so a NaN element never wins); len(s) is a multiple of 8.
TEXT ·maxAVX2(SB), NOSPLIT, $0-36
	MOVQ         s_base+0(FP), SI
	MOVQ         s_len+8(FP), CX
	VBROADCASTSS init+24(FP), Y0

maxloop:
	CMPQ    CX, $8
	JL      maxdone
	VMOVUPS (SI), Y1
	VMAXPS  Y0, Y1, Y0 // Y0 = Y1 > Y0 ? Y1 : Y0
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     maxloop

maxdone:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X0, X1, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X0, X1, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X0, X1, X0
	VZEROUPPER
	MOVSS        X0, ret+32(FP)
	RET
