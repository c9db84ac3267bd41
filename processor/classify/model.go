package classify

import (
	"math"
	"slices"
	"sync"
)

// Head indexes the three things the model predicts.
type Head int

// The model's heads, in the order their weights are laid out.
const (
	HeadCategory Head = iota
	HeadTheme
	HeadExecutor
	numHeads
)

func (h Head) String() string {
	return [...]string{"category", "theme", "executor"}[h]
}

// Model is a trained linear classifier. It is immutable after Train or Read and safe for concurrent use.
type Model struct {
	feat FeatureConfig

	vocab       hashTable // feature hash → feature id
	vocabHashes []uint64  // feature hashes in id order, for serialization
	scale       []float32 // per feature: idf × block weight

	stemIdx hashTable // surface-word hash → index into stems
	stems   []uint64
	oov     oovStems // the only state that changes after Train or Read: a cache

	names  [numHeads][]string
	offset [numHeads]int // first column of each head inside a weight row
	width  int           // columns per weight row: all heads' classes
	w      []float32     // feature-major: w[f*width+offset[h]+c]
	bias   []float32     // width
	qw     []int8        // w as stored: int8 steps …
	qsteps []float32     // … of one step per feature and head

	// themeCat maps a theme to the category it is most often filed under; with ThemeAlpha > 0 the
	// theme's probability is multiplied by its category's to the power ThemeAlpha, so the theme agrees
	// with the predicted category unless the text says otherwise strongly.
	themeCat   []int32
	themeAlpha float32

	knn       knnIndex
	knnK      int
	knnWeight float32 // share of the neighbours' votes in the final probabilities
	knnPower  float32 // similarity exponent of a neighbour's vote

	stack *stacker // second level; nil: the fixed blend of knnWeight

	pool sync.Pool
}

// Names returns the class names of a head in the model's order.
func (m *Model) Names(h Head) []string { return slices.Clone(m.names[h]) }

// NumFeatures is the size of the model's feature vocabulary.
func (m *Model) NumFeatures() int { return len(m.scale) }

func (m *Model) stem(surface uint64, word []rune) uint64 {
	if i, ok := m.stemIdx.get(surface); ok {
		return m.stems[i]
	}
	return m.oov.stem(surface, word)
}

func (m *Model) getScratch() *scratch {
	if sc, ok := m.pool.Get().(*scratch); ok {
		return sc
	}
	return &scratch{scores: make([]float32, m.width)}
}

// vectorize fills sc.ids (ascending) and sc.vals with the L2-normalized sublinear TF-IDF vector of text.
func (m *Model) vectorize(text string, sc *scratch) {
	m.feat.extract(text, m.stem, sc)
	m.vectorizeRaw(sc)
}

// tfWeights are sublinearTF's values for the counts a text's feature commonly has.
var tfWeights = func() (w [32]float32) {
	for n := 1; n < len(w); n++ {
		w[n] = sublinearTF(n)
	}
	return w
}()

// tfWeight is sublinearTF, from a table for the common counts.
func tfWeight(n int) float32 {
	if n < len(tfWeights) {
		return tfWeights[n]
	}
	return sublinearTF(n)
}

// sublinearTF is the term frequency 1 + ln n of a feature that occurs n ≥ 1 times.
func sublinearTF(n int) float32 { return 1 + float32(math.Log(float64(n))) }

// weigh merges repeated ids in sc.ids into sublinear TF-IDF values and L2-normalizes them.
func (m *Model) weigh(sc *scratch) {
	slices.Sort(sc.ids)
	sc.vals = sc.vals[:0]
	n := 0
	var norm float64
	for i := 0; i < len(sc.ids); {
		j := i + 1
		for j < len(sc.ids) && sc.ids[j] == sc.ids[i] {
			j++
		}
		v := tfWeight(j-i) * m.scale[sc.ids[i]]
		sc.ids[n] = sc.ids[i]
		sc.vals = append(sc.vals, v)
		norm += float64(v) * float64(v)
		n++
		i = j
	}
	sc.ids = sc.ids[:n]
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := range sc.vals {
			sc.vals[i] *= inv
		}
	}
}

// scoresInto computes the raw linear scores of all heads for the vector in sc.
func (m *Model) scoresInto(sc *scratch) {
	s := sc.scores[:m.width]
	copy(s, m.bias)
	axpyRows(s, m.w, m.width, sc.ids, sc.vals)
}

// softmax turns scores into probabilities in place.
func softmax[F float32 | float64](s []F) {
	mx := s[0]
	for _, v := range s[1:] {
		mx = max(mx, v)
	}
	var sum F
	for i, v := range s {
		e := F(math.Exp(float64(v - mx)))
		s[i] = e
		sum += e
	}
	for i := range s {
		s[i] /= sum
	}
}

// probs computes the per-head probabilities of text into sc.scores (each head's slice sums to 1).
func (m *Model) probs(text string, sc *scratch) {
	if m.stack != nil {
		m.firstLevel(text, sc)
		m.stack.apply(m, sc)
	} else {
		m.vectorize(text, sc)
		m.scoresInto(sc)
		for h := range numHeads {
			softmax32(m.headSlice(sc.scores, h))
		}
	}
	if m.stack == nil && m.knnK > 0 && m.knnWeight > 0 {
		if cap(sc.votes) < m.width {
			sc.votes = make([]float32, m.width)
		}
		sc.votes = sc.votes[:m.width]
		clear(sc.votes)
		sc.sims, sc.top = m.knn.vote(sc.ids, sc.vals, m.knnK, m.knnPower, sc.sims, sc.top, m, sc.votes)
		if len(sc.top) > 0 {
			for c := range sc.votes {
				sc.scores[c] = (1-m.knnWeight)*sc.scores[c] + m.knnWeight*sc.votes[c]
			}
		}
	}
	if m.themeAlpha > 0 {
		cat := m.headSlice(sc.scores, HeadCategory)
		th := m.headSlice(sc.scores, HeadTheme)
		// A power per category, not per theme: the same values, a tenth of the calls to math.Pow.
		sc.catPow = sc.catPow[:0]
		for _, p := range cat {
			sc.catPow = append(sc.catPow, pow(p, m.themeAlpha))
		}
		var sum float32
		for t := range th {
			th[t] *= sc.catPow[m.themeCat[t]]
			sum += th[t]
		}
		if sum > 0 {
			for t := range th {
				th[t] /= sum
			}
		}
	}
}

func (m *Model) headSlice(s []float32, h Head) []float32 {
	return s[m.offset[h] : m.offset[h]+len(m.names[h])]
}

// top3 returns the indices of the three largest values, best first; ties go to the lower index so the
// answer never depends on anything but the numbers.
func top3(p []float32) (idx [3]int, n int) {
	idx = [3]int{-1, -1, -1}
	bar := float32(math.Inf(-1)) // the third's value once there are three: most values fall below it
	for i, v := range p {
		if idx[2] >= 0 && v <= bar {
			continue
		}
		for k := 0; k < 3; k++ {
			if idx[k] < 0 || v > p[idx[k]] {
				copy(idx[k+1:], idx[k:2])
				idx[k] = i
				if idx[2] >= 0 {
					bar = p[idx[2]]
				}
				break
			}
		}
	}
	for n < 3 && idx[n] >= 0 {
		n++
	}
	return idx, n
}

// Classify predicts category, theme and executor of text with the model alone (no taxonomy rules).
func (m *Model) Classify(text string) Prediction {
	sc := m.getScratch()
	defer m.pool.Put(sc)
	m.probs(text, sc)
	var p Prediction
	p.Top3.Category = m.labels(sc.scores, HeadCategory)
	p.Top3.Theme = m.labels(sc.scores, HeadTheme)
	p.Top3.Executor = m.labels(sc.scores, HeadExecutor)
	p.Category, p.Theme, p.Executor = p.Top3.Category[0], p.Top3.Theme[0], p.Top3.Executor[0]
	return p
}

func (m *Model) labels(scores []float32, h Head) []Label {
	p := m.headSlice(scores, h)
	idx, n := top3(p)
	out := make([]Label, n)
	for k := range n {
		out[k] = Label{Name: m.names[h][idx[k]], Conf: p[idx[k]]}
	}
	return out
}

// rank returns the position (0-based) of class c among a head's probabilities for text, for evaluation.
func (m *Model) rank(text string, h Head, c int) int {
	sc := m.getScratch()
	defer m.pool.Put(sc)
	m.probs(text, sc)
	p := m.headSlice(sc.scores, h)
	r := 0
	for i, v := range p {
		if v > p[c] || (v == p[c] && i < c) {
			r++
		}
	}
	return r
}
