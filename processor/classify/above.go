package classify

// above returns the index of the first s[i] that is not <= bar, or len(s). The kNN vote's top-k scan
// spends most of its time on texts that cannot enter the top k; with AVX2 it skips eight at a time.
func above(s []float32, bar float32) int {
	if useAVX2 {
		return aboveAVX2(s, bar)
	}
	return aboveGo(s, bar)
}

func aboveGo(s []float32, bar float32) int {
	for i, v := range s {
		if !(v <= bar) {
			return i
		}
	}
	return len(s)
}

// maxOf is the largest element of a non-empty s as `if v > mx { mx = v }` from mx = s[0] finds it: a NaN
// wins only as s[0]. Where two zeros of either sign tie it may return either; every caller subtracts it,
// which gives the same results for both.
func maxOf(s []float32) float32 {
	mx, i := s[0], 1
	if useAVX2 {
		i = len(s) &^ 7
		mx = maxAVX2(s[:i], mx)
		i = max(i, 1)
	}
	for _, v := range s[i:] {
		if v > mx {
			mx = v
		}
	}
	return mx
}
