package classify

// aboveAVX2 is above (above.go) eight lanes at a time (above_amd64.s).
//
//go:noescape
func aboveAVX2(s []float32, bar float32) int

// maxAVX2 is the maximum of init and s (above_amd64.s); len(s) must be a multiple of 8.
//
//go:noescape
func maxAVX2(s []float32, init float32) float32
