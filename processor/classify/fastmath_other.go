//go:build !amd64

package classify

func expShiftedAVX2(s []float32, mx float32)    { panic("classify: no AVX2 off amd64") }
func logsAVX2(s []float32)                      { panic("classify: no AVX2 off amd64") }
func aboveAVX2(s []float32, bar float32) int    { panic("classify: no AVX2 off amd64") }
func maxAVX2(s []float32, init float32) float32 { panic("classify: no AVX2 off amd64") }
