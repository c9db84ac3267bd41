#include "textflag.h"

// The vector forms of expNeg and logPos (fastmath.go): the same float32 operations in the same order,
// rounded one by one (no fused multiply-add), so each lane is bit for bit the Go function's result.

// func expShiftedAVX2(s []float32, mx float32)
// s[i] = expNeg(s[i] - mx); len(s) is a multiple of 8.
TEXT ·expShiftedAVX2(SB), NOSPLIT, $0-28
	MOVQ         s_base+0(FP), DI
	MOVQ         s_len+8(FP), CX
	VBROADCASTSS mx+24(FP), Y15
	VMOVUPS      expMagic<>(SB), Y14
	VMOVUPS      expLn2Hi<>(SB), Y13
	VMOVUPS      expLn2Lo<>(SB), Y12
	VMOVUPS      expLog2e<>(SB), Y11
	VMOVUPS      one<>(SB), Y10
	VMOVUPS      expMin<>(SB), Y9

exploop:
	CMPQ      CX, $8
	JL        expdone
	VMOVUPS   (DI), Y0
	VSUBPS    Y15, Y0, Y0              // x = s - mx
	VMULPS    Y11, Y0, Y1              // x·log2e
	VADDPS    Y14, Y1, Y1
	VSUBPS    Y14, Y1, Y1              // f = round(x·log2e)
	VMULPS    Y13, Y1, Y2
	VSUBPS    Y2, Y0, Y2               // x - f·ln2Hi
	VMULPS    Y12, Y1, Y3
	VSUBPS    Y3, Y2, Y2               // r = x - f·ln2Hi - f·ln2Lo
	VMULPS    Y2, Y2, Y3               // z = r·r
	VMULPS    expC0<>(SB), Y2, Y4
	VADDPS    expC1<>(SB), Y4, Y4
	VMULPS    Y2, Y4, Y4
	VADDPS    expC2<>(SB), Y4, Y4
	VMULPS    Y2, Y4, Y4
	VADDPS    expC3<>(SB), Y4, Y4
	VMULPS    Y2, Y4, Y4
	VADDPS    expC4<>(SB), Y4, Y4
	VMULPS    Y2, Y4, Y4
	VADDPS    expC5<>(SB), Y4, Y4      // p
	VMULPS    Y3, Y4, Y4
	VADDPS    Y2, Y4, Y4
	VADDPS    Y10, Y4, Y4              // y = p·z + r + 1
	VCVTPS2DQ Y1, Y5
	VPADDD    bias127<>(SB), Y5, Y5
	VPSLLD    $23, Y5, Y5              // 2^f
	VMULPS    Y5, Y4, Y4
	VCMPPS    $1, Y9, Y0, Y6           // x < expMin
	VANDNPS   Y4, Y6, Y4               // … gives 0
	VMOVUPS   Y4, (DI)
	ADDQ      $32, DI
	SUBQ      $8, CX
	JMP       exploop

expdone:
	VZEROUPPER
	RET

// func logsAVX2(s []float32)
// s[i] = logPos(s[i]); len(s) is a multiple of 8.
TEXT ·logsAVX2(SB), NOSPLIT, $0-24
	MOVQ    s_base+0(FP), DI
	MOVQ    s_len+8(FP), CX
	VMOVUPS logMant<>(SB), Y15
	VMOVUPS logHalfBits<>(SB), Y14
	VMOVUPS bias126<>(SB), Y13
	VMOVUPS logSqrtHalf<>(SB), Y12
	VMOVUPS one<>(SB), Y11
	VMOVUPS expLn2Lo<>(SB), Y10
	VMOVUPS half<>(SB), Y9
	VMOVUPS expLn2Hi<>(SB), Y8

logloop:
	CMPQ      CX, $8
	JL        logdone
	VMOVUPS   (DI), Y0
	VPSRLD    $23, Y0, Y1
	VPSUBD    Y13, Y1, Y1              // e
	VANDPS    Y15, Y0, Y2
	VORPS     Y14, Y2, Y2              // m in [½, 1)
	VCMPPS    $1, Y12, Y2, Y3          // m < √½
	VPADDD    Y3, Y1, Y1               // … e-- (the mask is -1)
	VADDPS    Y2, Y2, Y4
	VBLENDVPS Y3, Y4, Y2, Y2           // … m += m
	VSUBPS    Y11, Y2, Y2              // m--
	VMULPS    Y2, Y2, Y5               // z = m·m
	VMULPS    logC0<>(SB), Y2, Y6
	VADDPS    logC1<>(SB), Y6, Y6
	VMULPS    Y2, Y6, Y6
	VADDPS    logC2<>(SB), Y6, Y6
	VMULPS    Y2, Y6, Y6
	VADDPS    logC3<>(SB), Y6, Y6
	VMULPS    Y2, Y6, Y6
	VADDPS    logC4<>(SB), Y6, Y6
	VMULPS    Y2, Y6, Y6
	VADDPS    logC5<>(SB), Y6, Y6
	VMULPS    Y2, Y6, Y6
	VADDPS    logC6<>(SB), Y6, Y6
	VMULPS    Y2, Y6, Y6
	VADDPS    logC7<>(SB), Y6, Y6
	VMULPS    Y2, Y6, Y6
	VADDPS    logC8<>(SB), Y6, Y6
	VMULPS    Y2, Y6, Y6
	VMULPS    Y5, Y6, Y6               // y = P(m)·m·z
	VCVTDQ2PS Y1, Y7                   // fe
	VMULPS    Y10, Y7, Y3
	VADDPS    Y3, Y6, Y6               // y += ln2Lo·fe
	VMULPS    Y9, Y5, Y3
	VSUBPS    Y3, Y6, Y6               // y -= ½·z
	VADDPS    Y6, Y2, Y2               // m + y
	VMULPS    Y8, Y7, Y3
	VADDPS    Y3, Y2, Y2               // + ln2Hi·fe
	VMOVUPS   Y2, (DI)
	ADDQ      $32, DI
	SUBQ      $8, CX
	JMP       logloop

logdone:
	VZEROUPPER
	RET

DATA expLog2e<>+0(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+4(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+8(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+12(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+16(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+20(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+24(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL expLog2e<>(SB), RODATA|NOPTR, $32

DATA expMagic<>+0(SB)/4, $0x4b400000
DATA expMagic<>+4(SB)/4, $0x4b400000
DATA expMagic<>+8(SB)/4, $0x4b400000
DATA expMagic<>+12(SB)/4, $0x4b400000
DATA expMagic<>+16(SB)/4, $0x4b400000
DATA expMagic<>+20(SB)/4, $0x4b400000
DATA expMagic<>+24(SB)/4, $0x4b400000
DATA expMagic<>+28(SB)/4, $0x4b400000
GLOBL expMagic<>(SB), RODATA|NOPTR, $32

DATA expLn2Hi<>+0(SB)/4, $0x3f318000
DATA expLn2Hi<>+4(SB)/4, $0x3f318000
DATA expLn2Hi<>+8(SB)/4, $0x3f318000
DATA expLn2Hi<>+12(SB)/4, $0x3f318000
DATA expLn2Hi<>+16(SB)/4, $0x3f318000
DATA expLn2Hi<>+20(SB)/4, $0x3f318000
DATA expLn2Hi<>+24(SB)/4, $0x3f318000
DATA expLn2Hi<>+28(SB)/4, $0x3f318000
GLOBL expLn2Hi<>(SB), RODATA|NOPTR, $32

DATA expLn2Lo<>+0(SB)/4, $0xb95e8083
DATA expLn2Lo<>+4(SB)/4, $0xb95e8083
DATA expLn2Lo<>+8(SB)/4, $0xb95e8083
DATA expLn2Lo<>+12(SB)/4, $0xb95e8083
DATA expLn2Lo<>+16(SB)/4, $0xb95e8083
DATA expLn2Lo<>+20(SB)/4, $0xb95e8083
DATA expLn2Lo<>+24(SB)/4, $0xb95e8083
DATA expLn2Lo<>+28(SB)/4, $0xb95e8083
GLOBL expLn2Lo<>(SB), RODATA|NOPTR, $32

DATA expC0<>+0(SB)/4, $0x39506967
DATA expC0<>+4(SB)/4, $0x39506967
DATA expC0<>+8(SB)/4, $0x39506967
DATA expC0<>+12(SB)/4, $0x39506967
DATA expC0<>+16(SB)/4, $0x39506967
DATA expC0<>+20(SB)/4, $0x39506967
DATA expC0<>+24(SB)/4, $0x39506967
DATA expC0<>+28(SB)/4, $0x39506967
GLOBL expC0<>(SB), RODATA|NOPTR, $32

DATA expC1<>+0(SB)/4, $0x3ab743ce
DATA expC1<>+4(SB)/4, $0x3ab743ce
DATA expC1<>+8(SB)/4, $0x3ab743ce
DATA expC1<>+12(SB)/4, $0x3ab743ce
DATA expC1<>+16(SB)/4, $0x3ab743ce
DATA expC1<>+20(SB)/4, $0x3ab743ce
DATA expC1<>+24(SB)/4, $0x3ab743ce
DATA expC1<>+28(SB)/4, $0x3ab743ce
GLOBL expC1<>(SB), RODATA|NOPTR, $32

DATA expC2<>+0(SB)/4, $0x3c088908
DATA expC2<>+4(SB)/4, $0x3c088908
DATA expC2<>+8(SB)/4, $0x3c088908
DATA expC2<>+12(SB)/4, $0x3c088908
DATA expC2<>+16(SB)/4, $0x3c088908
DATA expC2<>+20(SB)/4, $0x3c088908
DATA expC2<>+24(SB)/4, $0x3c088908
DATA expC2<>+28(SB)/4, $0x3c088908
GLOBL expC2<>(SB), RODATA|NOPTR, $32

DATA expC3<>+0(SB)/4, $0x3d2aa9c1
DATA expC3<>+4(SB)/4, $0x3d2aa9c1
DATA expC3<>+8(SB)/4, $0x3d2aa9c1
DATA expC3<>+12(SB)/4, $0x3d2aa9c1
DATA expC3<>+16(SB)/4, $0x3d2aa9c1
DATA expC3<>+20(SB)/4, $0x3d2aa9c1
DATA expC3<>+24(SB)/4, $0x3d2aa9c1
DATA expC3<>+28(SB)/4, $0x3d2aa9c1
GLOBL expC3<>(SB), RODATA|NOPTR, $32

DATA expC4<>+0(SB)/4, $0x3e2aaaaa
DATA expC4<>+4(SB)/4, $0x3e2aaaaa
DATA expC4<>+8(SB)/4, $0x3e2aaaaa
DATA expC4<>+12(SB)/4, $0x3e2aaaaa
DATA expC4<>+16(SB)/4, $0x3e2aaaaa
DATA expC4<>+20(SB)/4, $0x3e2aaaaa
DATA expC4<>+24(SB)/4, $0x3e2aaaaa
DATA expC4<>+28(SB)/4, $0x3e2aaaaa
GLOBL expC4<>(SB), RODATA|NOPTR, $32

DATA expC5<>+0(SB)/4, $0x3f000000
DATA expC5<>+4(SB)/4, $0x3f000000
DATA expC5<>+8(SB)/4, $0x3f000000
DATA expC5<>+12(SB)/4, $0x3f000000
DATA expC5<>+16(SB)/4, $0x3f000000
DATA expC5<>+20(SB)/4, $0x3f000000
DATA expC5<>+24(SB)/4, $0x3f000000
DATA expC5<>+28(SB)/4, $0x3f000000
GLOBL expC5<>(SB), RODATA|NOPTR, $32

DATA one<>+0(SB)/4, $0x3f800000
DATA one<>+4(SB)/4, $0x3f800000
DATA one<>+8(SB)/4, $0x3f800000
DATA one<>+12(SB)/4, $0x3f800000
DATA one<>+16(SB)/4, $0x3f800000
DATA one<>+20(SB)/4, $0x3f800000
DATA one<>+24(SB)/4, $0x3f800000
DATA one<>+28(SB)/4, $0x3f800000
GLOBL one<>(SB), RODATA|NOPTR, $32

DATA half<>+0(SB)/4, $0x3f000000
DATA half<>+4(SB)/4, $0x3f000000
DATA half<>+8(SB)/4, $0x3f000000
DATA half<>+12(SB)/4, $0x3f000000
DATA half<>+16(SB)/4, $0x3f000000
DATA half<>+20(SB)/4, $0x3f000000
DATA half<>+24(SB)/4, $0x3f000000
DATA half<>+28(SB)/4, $0x3f000000
GLOBL half<>(SB), RODATA|NOPTR, $32

DATA expMin<>+0(SB)/4, $0xc2aea8f6
DATA expMin<>+4(SB)/4, $0xc2aea8f6
DATA expMin<>+8(SB)/4, $0xc2aea8f6
DATA expMin<>+12(SB)/4, $0xc2aea8f6
DATA expMin<>+16(SB)/4, $0xc2aea8f6
DATA expMin<>+20(SB)/4, $0xc2aea8f6
DATA expMin<>+24(SB)/4, $0xc2aea8f6
DATA expMin<>+28(SB)/4, $0xc2aea8f6
GLOBL expMin<>(SB), RODATA|NOPTR, $32

DATA bias127<>+0(SB)/4, $0x0000007f
DATA bias127<>+4(SB)/4, $0x0000007f
DATA bias127<>+8(SB)/4, $0x0000007f
DATA bias127<>+12(SB)/4, $0x0000007f
DATA bias127<>+16(SB)/4, $0x0000007f
DATA bias127<>+20(SB)/4, $0x0000007f
DATA bias127<>+24(SB)/4, $0x0000007f
DATA bias127<>+28(SB)/4, $0x0000007f
GLOBL bias127<>(SB), RODATA|NOPTR, $32

DATA logMant<>+0(SB)/4, $0x007fffff
DATA logMant<>+4(SB)/4, $0x007fffff
DATA logMant<>+8(SB)/4, $0x007fffff
DATA logMant<>+12(SB)/4, $0x007fffff
DATA logMant<>+16(SB)/4, $0x007fffff
DATA logMant<>+20(SB)/4, $0x007fffff
DATA logMant<>+24(SB)/4, $0x007fffff
DATA logMant<>+28(SB)/4, $0x007fffff
GLOBL logMant<>(SB), RODATA|NOPTR, $32

DATA logHalfBits<>+0(SB)/4, $0x3f000000
DATA logHalfBits<>+4(SB)/4, $0x3f000000
DATA logHalfBits<>+8(SB)/4, $0x3f000000
DATA logHalfBits<>+12(SB)/4, $0x3f000000
DATA logHalfBits<>+16(SB)/4, $0x3f000000
DATA logHalfBits<>+20(SB)/4, $0x3f000000
DATA logHalfBits<>+24(SB)/4, $0x3f000000
DATA logHalfBits<>+28(SB)/4, $0x3f000000
GLOBL logHalfBits<>(SB), RODATA|NOPTR, $32

DATA bias126<>+0(SB)/4, $0x0000007e
DATA bias126<>+4(SB)/4, $0x0000007e
DATA bias126<>+8(SB)/4, $0x0000007e
DATA bias126<>+12(SB)/4, $0x0000007e
DATA bias126<>+16(SB)/4, $0x0000007e
DATA bias126<>+20(SB)/4, $0x0000007e
DATA bias126<>+24(SB)/4, $0x0000007e
DATA bias126<>+28(SB)/4, $0x0000007e
GLOBL bias126<>(SB), RODATA|NOPTR, $32

DATA logSqrtHalf<>+0(SB)/4, $0x3f3504f3
DATA logSqrtHalf<>+4(SB)/4, $0x3f3504f3
DATA logSqrtHalf<>+8(SB)/4, $0x3f3504f3
DATA logSqrtHalf<>+12(SB)/4, $0x3f3504f3
DATA logSqrtHalf<>+16(SB)/4, $0x3f3504f3
DATA logSqrtHalf<>+20(SB)/4, $0x3f3504f3
DATA logSqrtHalf<>+24(SB)/4, $0x3f3504f3
DATA logSqrtHalf<>+28(SB)/4, $0x3f3504f3
GLOBL logSqrtHalf<>(SB), RODATA|NOPTR, $32

DATA logC0<>+0(SB)/4, $0x3d9021bb
DATA logC0<>+4(SB)/4, $0x3d9021bb
DATA logC0<>+8(SB)/4, $0x3d9021bb
DATA logC0<>+12(SB)/4, $0x3d9021bb
DATA logC0<>+16(SB)/4, $0x3d9021bb
DATA logC0<>+20(SB)/4, $0x3d9021bb
DATA logC0<>+24(SB)/4, $0x3d9021bb
DATA logC0<>+28(SB)/4, $0x3d9021bb
GLOBL logC0<>(SB), RODATA|NOPTR, $32

DATA logC1<>+0(SB)/4, $0xbdebd1b8
DATA logC1<>+4(SB)/4, $0xbdebd1b8
DATA logC1<>+8(SB)/4, $0xbdebd1b8
DATA logC1<>+12(SB)/4, $0xbdebd1b8
DATA logC1<>+16(SB)/4, $0xbdebd1b8
DATA logC1<>+20(SB)/4, $0xbdebd1b8
DATA logC1<>+24(SB)/4, $0xbdebd1b8
DATA logC1<>+28(SB)/4, $0xbdebd1b8
GLOBL logC1<>(SB), RODATA|NOPTR, $32

DATA logC2<>+0(SB)/4, $0x3def251a
DATA logC2<>+4(SB)/4, $0x3def251a
DATA logC2<>+8(SB)/4, $0x3def251a
DATA logC2<>+12(SB)/4, $0x3def251a
DATA logC2<>+16(SB)/4, $0x3def251a
DATA logC2<>+20(SB)/4, $0x3def251a
DATA logC2<>+24(SB)/4, $0x3def251a
DATA logC2<>+28(SB)/4, $0x3def251a
GLOBL logC2<>(SB), RODATA|NOPTR, $32

DATA logC3<>+0(SB)/4, $0xbdfe5d4f
DATA logC3<>+4(SB)/4, $0xbdfe5d4f
DATA logC3<>+8(SB)/4, $0xbdfe5d4f
DATA logC3<>+12(SB)/4, $0xbdfe5d4f
DATA logC3<>+16(SB)/4, $0xbdfe5d4f
DATA logC3<>+20(SB)/4, $0xbdfe5d4f
DATA logC3<>+24(SB)/4, $0xbdfe5d4f
DATA logC3<>+28(SB)/4, $0xbdfe5d4f
GLOBL logC3<>(SB), RODATA|NOPTR, $32

DATA logC4<>+0(SB)/4, $0x3e11e9bf
DATA logC4<>+4(SB)/4, $0x3e11e9bf
DATA logC4<>+8(SB)/4, $0x3e11e9bf
DATA logC4<>+12(SB)/4, $0x3e11e9bf
DATA logC4<>+16(SB)/4, $0x3e11e9bf
DATA logC4<>+20(SB)/4, $0x3e11e9bf
DATA logC4<>+24(SB)/4, $0x3e11e9bf
DATA logC4<>+28(SB)/4, $0x3e11e9bf
GLOBL logC4<>(SB), RODATA|NOPTR, $32

DATA logC5<>+0(SB)/4, $0xbe2aae50
DATA logC5<>+4(SB)/4, $0xbe2aae50
DATA logC5<>+8(SB)/4, $0xbe2aae50
DATA logC5<>+12(SB)/4, $0xbe2aae50
DATA logC5<>+16(SB)/4, $0xbe2aae50
DATA logC5<>+20(SB)/4, $0xbe2aae50
DATA logC5<>+24(SB)/4, $0xbe2aae50
DATA logC5<>+28(SB)/4, $0xbe2aae50
GLOBL logC5<>(SB), RODATA|NOPTR, $32

DATA logC6<>+0(SB)/4, $0x3e4cceac
DATA logC6<>+4(SB)/4, $0x3e4cceac
DATA logC6<>+8(SB)/4, $0x3e4cceac
DATA logC6<>+12(SB)/4, $0x3e4cceac
DATA logC6<>+16(SB)/4, $0x3e4cceac
DATA logC6<>+20(SB)/4, $0x3e4cceac
DATA logC6<>+24(SB)/4, $0x3e4cceac
DATA logC6<>+28(SB)/4, $0x3e4cceac
GLOBL logC6<>(SB), RODATA|NOPTR, $32

DATA logC7<>+0(SB)/4, $0xbe7ffffc
DATA logC7<>+4(SB)/4, $0xbe7ffffc
DATA logC7<>+8(SB)/4, $0xbe7ffffc
DATA logC7<>+12(SB)/4, $0xbe7ffffc
DATA logC7<>+16(SB)/4, $0xbe7ffffc
DATA logC7<>+20(SB)/4, $0xbe7ffffc
DATA logC7<>+24(SB)/4, $0xbe7ffffc
DATA logC7<>+28(SB)/4, $0xbe7ffffc
GLOBL logC7<>(SB), RODATA|NOPTR, $32

DATA logC8<>+0(SB)/4, $0x3eaaaaaa
DATA logC8<>+4(SB)/4, $0x3eaaaaaa
DATA logC8<>+8(SB)/4, $0x3eaaaaaa
DATA logC8<>+12(SB)/4, $0x3eaaaaaa
DATA logC8<>+16(SB)/4, $0x3eaaaaaa
DATA logC8<>+20(SB)/4, $0x3eaaaaaa
DATA logC8<>+24(SB)/4, $0x3eaaaaaa
DATA logC8<>+28(SB)/4, $0x3eaaaaaa
GLOBL logC8<>(SB), RODATA|NOPTR, $32
