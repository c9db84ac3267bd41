package dedup

import "golang.org/x/sys/cpu"

// useAVX2 picks the vector MinHash; without AVX2 the portable loop runs.
var useAVX2 = cpu.X86.HasAVX2

// minHashesAVX2 computes bandHashes' 32 minimums four lanes at a time (minhash_amd64.s), bit for bit the
// Go loop's: TestMinHashesAVX2MatchesGo.
//
//go:noescape
func minHashesAVX2(feat []uint32, seeds *[numHashes]uint64, mins *[numHashes]uint64)
