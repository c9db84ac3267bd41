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
