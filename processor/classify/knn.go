package classify

import "math"

// knnIndex holds the training texts' vectors as posting lists so the nearest neighbours of a text cost
// only the postings of its own features. Near-identical appeals (the same reporter, the same template,
// the same street) are common in the portal's data and a linear model smooths them away; the neighbours'
// votes bring them back.
type knnIndex struct {
	start []int32   // per feature: first posting; len = features+1
	doc   []int32   // posting → training text
	val   []float32 // posting → the text's weight of the feature
	label [numHeads][]int32
	n     int
}

func buildKNN(vecs []sparseVec, ys [numHeads][]int32, features int) knnIndex {
	ix := knnIndex{start: make([]int32, features+1), n: len(vecs)}
	for _, v := range vecs {
		for _, id := range v.ids {
			ix.start[id+1]++
		}
	}
	for f := range features {
		ix.start[f+1] += ix.start[f]
	}
	total := ix.start[features]
	ix.doc = make([]int32, total)
	ix.val = make([]float32, total)
	fill := append([]int32(nil), ix.start[:features]...)
	for d, v := range vecs {
		for k, id := range v.ids {
			p := fill[id]
			ix.doc[p], ix.val[p] = int32(d), v.vals[k]
			fill[id]++
		}
	}
	for h := range numHeads {
		ix.label[h] = append([]int32(nil), ys[h]...)
	}
	return ix
}

// vote adds the similarity-weighted votes of the k nearest training texts to each head's slice of out
// (already offset per head), normalized so every head's votes sum to 1. sims and top are scratch.
func (ix *knnIndex) vote(ids []int32, vals []float32, k int, power float32, sims []float32, top []int32, m *Model, out []float32) ([]float32, []int32) {
	if ix.n == 0 || k <= 0 {
		return sims, top
	}
	if cap(sims) < ix.n {
		sims = make([]float32, ix.n)
	}
	sims = sims[:ix.n]
	clear(sims)
	for i, id := range ids {
		v := vals[i]
		lo, hi := ix.start[id], ix.start[id+1]
		docs, ws := ix.doc[lo:hi], ix.val[lo:hi]
		ws = ws[:len(docs)]
		for j, d := range docs {
			sims[d] += v * ws[j]
		}
	}
	// The bar to enter the top k is 0 until it is full, then its k-th similarity (which is > 0); above
	// skips the texts at or below it, eight at a time where it can. The bar only rises, so a text
	// skipped against an earlier bar would have been skipped against the later one too.
	top = top[:0]
	var bar float32
	for d := 0; ; d++ {
		d += above(sims[d:], bar)
		if d >= len(sims) {
			break
		}
		if len(top) < k {
			top = append(top, int32(d))
		} else {
			top[k-1] = int32(d)
		}
		for j := len(top) - 1; j > 0 && sims[top[j]] > sims[top[j-1]]; j-- {
			top[j], top[j-1] = top[j-1], top[j]
		}
		if len(top) == k {
			bar = sims[top[k-1]]
		}
	}
	if len(top) == 0 {
		return sims, top
	}
	var sum float32
	for _, d := range top {
		sims[d] = pow(sims[d], power)
		sum += sims[d]
	}
	for h := range numHeads {
		o := m.offset[h]
		for _, d := range top {
			out[o+int(ix.label[h][d])] += sims[d] / sum
		}
	}
	return sims, top
}

// pow is math.Pow with a fast path for the small integer exponents the model uses.
func pow(x, y float32) float32 {
	switch y {
	case 1:
		return x
	case 2:
		return x * x
	case 3:
		return x * x * x
	case 4:
		x *= x
		return x * x
	}
	return float32(math.Pow(float64(x), float64(y)))
}
