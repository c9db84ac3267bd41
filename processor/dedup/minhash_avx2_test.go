package dedup

import (
	"math/rand/v2"
	"testing"
)

// TestMinHashesAVX2MatchesGo compares the vector MinHash with the Go loop on feature sets of every size
// up to a sketch and beyond, with extreme values, bit for bit.
func TestMinHashesAVX2MatchesGo(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU: the Go loop is the only one")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for n := 0; n <= 2*maxFeatures; n++ {
		for trial := range 20 {
			feat := make([]uint32, n)
			for i := range feat {
				feat[i] = r.Uint32()
				switch (trial + i) % 17 {
				case 0:
					feat[i] = 0
				case 1:
					feat[i] = ^uint32(0)
				}
			}
			if got, want := minHashes(feat), minHashesGo(feat); got != want {
				t.Fatalf("%d features (trial %d): AVX2 %v, Go %v", n, trial, got, want)
			}
		}
	}
}

func BenchmarkMinHashes(b *testing.B) {
	feat := make([]uint32, 40)
	for i := range feat {
		feat[i] = uint32(i) * 2654435761
	}
	b.Run("avx2", func(b *testing.B) {
		for b.Loop() {
			minHashes(feat)
		}
	})
	b.Run("go", func(b *testing.B) {
		for b.Loop() {
			minHashesGo(feat)
		}
	})
}
