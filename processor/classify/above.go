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
