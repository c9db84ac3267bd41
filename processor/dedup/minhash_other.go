//go:build !amd64

package dedup

const useAVX2 = false

func minHashesAVX2(feat []uint32, seeds *[numHashes]uint64, mins *[numHashes]uint64) {
	panic("dedup: no AVX2 off amd64")
}
