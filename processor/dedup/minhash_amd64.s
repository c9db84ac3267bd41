#include "textflag.h"

// splitmix64's multipliers, split into their low and high 32 bits (VPMULUDQ multiplies the low 32 bits
// of each 64-bit lane), and the initial minimum; each is broadcast to a register once.
DATA c1lo<>+0(SB)/8, $0x1ce4e5b9
GLOBL c1lo<>(SB), RODATA|NOPTR, $8
DATA c1hi<>+0(SB)/8, $0xbf58476d
GLOBL c1hi<>(SB), RODATA|NOPTR, $8
DATA c2lo<>+0(SB)/8, $0x133111eb
GLOBL c2lo<>(SB), RODATA|NOPTR, $8
DATA c2hi<>+0(SB)/8, $0x94d049bb
GLOBL c2hi<>(SB), RODATA|NOPTR, $8
DATA low32<>+0(SB)/8, $0xffffffff
GLOBL low32<>(SB), RODATA|NOPTR, $8

// XSHMUL sets X (4 lanes) to (X ^ X>>SH) * C, C's halves in LO and HI; T1–T3 are scratch. A 64-bit
// product is lo·lo + ((hi·lo + lo·hi) << 32): the wrapped product Go's x *= c computes.
#define XSHMUL(X, SH, LO, HI, T1, T2, T3) \
	VPSRLQ   SH, X, T1 \
	VPXOR    T1, X, X \
	VPMULUDQ LO, X, T1 \
	VPSRLQ   $32, X, T2 \
	VPMULUDQ LO, T2, T2 \
	VPMULUDQ HI, X, T3 \
	VPADDQ   T3, T2, T2 \
	VPSLLQ   $32, T2, T2 \
	VPADDQ   T2, T1, X

// MIX64 sets X (4 lanes) to mix64(X) >> 32, in the low 32 bits of each lane; T1–T3 are scratch, Y9–Y12
// hold the multipliers' halves.
#define MIX64(X, T1, T2, T3) \
	XSHMUL(X, $30, Y9, Y10, T1, T2, T3) \
	XSHMUL(X, $27, Y11, Y12, T1, T2, T3) \
	VPSRLQ   $63, X, T1 \
	VPSRLQ   $32, X, X \
	VPXOR    T1, X, X

// func minHashesAVX2(feat []uint32, seeds *[32]uint64, mins *[32]uint64)
// mins[i] = min over f in feat of uint32(mix64(uint64(f) ^ seeds[i]) >> 32), and 0xffffffff with no
// features; sixteen hashes per pass over feat, four per register.
TEXT ·minHashesAVX2(SB), NOSPLIT, $0-40
	MOVQ feat_base+0(FP), SI
	MOVQ feat_len+8(FP), CX
	MOVQ seeds+24(FP), DX
	MOVQ mins+32(FP), DI
	MOVQ $2, R9                    // passes
	VPBROADCASTQ c1lo<>(SB), Y9
	VPBROADCASTQ c1hi<>(SB), Y10
	VPBROADCASTQ c2lo<>(SB), Y11
	VPBROADCASTQ c2hi<>(SB), Y12

pass:
	VPBROADCASTQ low32<>(SB), Y4
	VMOVDQU Y4, Y5
	VMOVDQU Y4, Y6
	VMOVDQU Y4, Y7
	XORQ    R8, R8

feature:
	CMPQ         R8, CX
	JGE          store
	MOVL         (SI)(R8*4), AX
	VMOVQ        AX, X8
	VPBROADCASTQ X8, Y8
	VPXOR        (DX), Y8, Y0
	MIX64(Y0, Y13, Y14, Y15)
	VPMINUD      Y0, Y4, Y4
	VPXOR        32(DX), Y8, Y1
	MIX64(Y1, Y13, Y14, Y15)
	VPMINUD      Y1, Y5, Y5
	VPXOR        64(DX), Y8, Y2
	MIX64(Y2, Y13, Y14, Y15)
	VPMINUD      Y2, Y6, Y6
	VPXOR        96(DX), Y8, Y3
	MIX64(Y3, Y13, Y14, Y15)
	VPMINUD      Y3, Y7, Y7
	INCQ         R8
	JMP          feature

store:
	VMOVDQU Y4, (DI)
	VMOVDQU Y5, 32(DI)
	VMOVDQU Y6, 64(DI)
	VMOVDQU Y7, 96(DI)
	ADDQ    $128, DX
	ADDQ    $128, DI
	DECQ    R9
	JNZ     pass
	VZEROUPPER
	RET
