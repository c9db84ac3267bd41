package dedup

import (
	"slices"

	"github.com/cespare/xxhash/v2"
)

// Signature parameters. They are part of the stored state (band fields, records): changing them makes
// old state meaningless, so they are constants, not configuration.
const (
	numBands    = 16 // LSH bands per text
	bandRows    = 2  // MinHash values per band: a band matches with probability J²
	numHashes   = numBands * bandRows
	maxFeatures = 48        // stored features per text; longer texts keep a bottom-k sketch
	bandField   = 1 + 1 + 4 // 'b', band index, band hash
)

// features returns the distinct 32-bit hashes of the stems, sorted. Texts are compared as sets of stems:
// neighbours describing one burst pipe in their own words share most content stems but few stem pairs
// (see docs/deduplication.md for the measurements that chose unigrams).
func features(dst []uint32, stems []string) []uint32 {
	dst = dst[:0]
	for _, s := range stems {
		dst = append(dst, uint32(xxhash.Sum64String(s)))
	}
	slices.Sort(dst)
	return slices.Compact(dst)
}

// fingerprint hashes the stem sequence: equal for texts that differ only in case, punctuation, stop
// words and word endings.
func fingerprint(stems []string) uint64 {
	d := xxhash.New()
	for _, s := range stems {
		_, _ = d.WriteString(s)
		_, _ = d.Write([]byte{0})
	}
	return d.Sum64()
}

func mix64(x uint64) uint64 { // splitmix64 finaliser: a cheap, well-spread permutation of 64-bit values
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// seeds are fixed so that every processor instance and every restart computes the same bands.
var seeds = func() (s [numHashes]uint64) {
	for i := range s {
		s[i] = mix64(uint64(i+1) * 0x9e3779b97f4a7c15)
	}
	return s
}()

// bandHashes returns the LSH band hashes of a feature set: texts with Jaccard similarity J share a given
// band with probability J², so a pair at J = 0.43 (two neighbours' paraphrases) shares at least one of
// 16 bands with probability 0.96, a pair at J = 0.1 with 0.15.
func bandHashes(feat []uint32) [numBands]uint32 {
	mins := minHashes(feat)
	var out [numBands]uint32
	for b := range out {
		out[b] = uint32(mix64(uint64(mins[2*b])<<32 | uint64(mins[2*b+1]) ^ seeds[b]))
	}
	return out
}

// bandFields are band hashes as Redis's hash fields name them: 'b', the band's index, the hash.
func bandFields(bands *[numBands]uint32) [numBands]string {
	var out [numBands]string
	var buf [bandField]byte
	for b, h := range bands {
		buf[0], buf[1] = 'b', byte(b)
		buf[2], buf[3], buf[4], buf[5] = byte(h>>24), byte(h>>16), byte(h>>8), byte(h)
		out[b] = string(buf[:])
	}
	return out
}

// sketch keeps at most maxFeatures of the smallest feature hashes (a bottom-k sketch) for storage.
func sketch(feat []uint32) []uint32 {
	if len(feat) > maxFeatures {
		return feat[:maxFeatures]
	}
	return feat
}

// overlap estimates |A∩B| / min(|A|,|B|) of two texts from their sketches and true set sizes. Overlap
// rather than Jaccard, because a short complaint and a long one about the same pipe, or a repost with a
// comment added, share most of the smaller text but little of the union. Exact when neither sketch is
// truncated; otherwise a bottom-k Jaccard estimate converted through the set sizes.
func overlap(a []uint32, sizeA int, b []uint32, sizeB int) float64 {
	small := min(sizeA, sizeB)
	if small == 0 || len(a) == 0 || len(b) == 0 {
		return 0
	}
	exact := len(a) == sizeA && len(b) == sizeB
	k := min(len(a), len(b))
	common, taken := 0, 0
	i, j := 0, 0
	for i < len(a) && j < len(b) && (exact || taken < k) {
		switch {
		case a[i] == b[j]:
			common++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
		taken++
	}
	if exact {
		return float64(common) / float64(small)
	}
	jac := float64(common) / float64(k)
	inter := jac * float64(sizeA+sizeB) / (1 + jac)
	return min(inter/float64(small), 1)
}

// minHashes returns, for each of the numHashes seeds, the least of the features' hashes under it. The
// 32 hashes of every feature were a tenth of the dedup stage; AVX2 computes them four lanes at a time.
func minHashes(feat []uint32) [numHashes]uint32 {
	var mins [numHashes]uint32
	if useAVX2 {
		var wide [numHashes]uint64
		minHashesAVX2(feat, &seeds, &wide)
		for i, v := range wide {
			mins[i] = uint32(v)
		}
		return mins
	}
	return minHashesGo(feat)
}

func minHashesGo(feat []uint32) [numHashes]uint32 {
	var mins [numHashes]uint32
	for i := range mins {
		mins[i] = ^uint32(0)
	}
	for _, f := range feat {
		for i := range mins {
			if v := uint32(mix64(uint64(f)^seeds[i]) >> 32); v < mins[i] {
				mins[i] = v
			}
		}
	}
	return mins
}
