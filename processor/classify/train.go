package classify

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// TrainConfig controls training. DefaultTrainConfig documents the defaults the shipped model uses.
type TrainConfig struct {
	Features FeatureConfig
	// Epochs of stochastic gradient descent per head (default 30).
	Epochs int
	// L2 is the regularization strength λ (default 1e-5); larger is smoother and less confident.
	L2 float64
	// LR is the initial learning rate (default 0.5); it decays as LR/(1+LR·λ·t).
	LR float64
	// Seed fixes the example order of every epoch; the same data and seed give the same model bytes.
	Seed uint64
	// ThemeAlpha ties the theme to the predicted category (default 0.5; 0 disables, see Model.themeAlpha).
	ThemeAlpha float32
	// KNN is how many nearest training texts vote (default 10; 0 disables), KNNWeight their share of the
	// final probabilities (default 0.5) and KNNPower the exponent on a neighbour's cosine similarity
	// (default 2), so near-duplicates dominate.
	KNN                 int
	KNNWeight, KNNPower float32
	// Balance weighs each text's gradient by (N/(classes·n_class))^Balance (default 0.5): 0 is plain
	// accuracy-seeking training, 1 fully balanced classes. Rare agencies otherwise drown in the big ones.
	Balance float64
	// StackFolds > 1 trains the second level (see stacker) on the first level's outputs over StackFolds
	// inner folds (default 5; 0 keeps the fixed blend of KNNWeight), by the same SGD with StackLR (0.1),
	// StackEpochs (30), class balance StackBalance (0) and an L2 per head, StackL2 (category 0.01, theme
	// 0.003, executor 0.001): the theme and the agency gain from leaning on the other heads' outputs
	// more than the category does, which a strong pull towards the blend would forbid them.
	StackFolds            int
	StackL2               [numHeads]float64
	StackLR, StackBalance float64
	StackEpochs           int
}

// DefaultTrainConfig is the configuration of the shipped model.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Features: DefaultFeatureConfig(), Epochs: 30, L2: 1e-5, LR: 0.5, Seed: 1, ThemeAlpha: 0.5,
		KNN: 10, KNNWeight: 0.5, KNNPower: 2, Balance: 0.5,
		StackFolds: 5, StackL2: [numHeads]float64{0.01, 0.003, 0.001}, StackLR: 0.1, StackEpochs: 30, StackBalance: 0}
}

// Validate reports a configuration that cannot work.
func (c TrainConfig) Validate() error {
	if err := c.Features.Validate(); err != nil {
		return err
	}
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("classify: Epochs %d: want >= 1", c.Epochs)
	case !(c.L2 >= 0) || !(c.LR > 0):
		return fmt.Errorf("classify: L2 %v, LR %v: want L2 >= 0, LR > 0", c.L2, c.LR)
	case !(c.ThemeAlpha >= 0):
		return fmt.Errorf("classify: ThemeAlpha %v: want >= 0", c.ThemeAlpha)
	case c.KNN < 0 || !(c.KNNWeight >= 0 && c.KNNWeight <= 1) || !(c.KNNPower >= 0):
		return fmt.Errorf("classify: KNN %d, KNNWeight %v, KNNPower %v: want KNN >= 0, 0 <= weight <= 1, power >= 0",
			c.KNN, c.KNNWeight, c.KNNPower)
	case c.StackFolds < 0 || c.StackFolds == 1 || c.StackFolds > 0 && (c.StackEpochs < 1 || !(min(c.StackL2[0], c.StackL2[1], c.StackL2[2]) >= 0) || !(c.StackLR > 0)):
		return fmt.Errorf("classify: StackFolds %d, StackEpochs %d, StackL2 %v, StackLR %v: want no folds or >= 2 with epochs >= 1, L2 >= 0, LR > 0",
			c.StackFolds, c.StackEpochs, c.StackL2, c.StackLR)
	}
	return nil
}

// sparseVec is one training text's normalized feature vector.
type sparseVec struct {
	ids  []int32
	vals []float32
}

// Train builds a model from examples. It is deterministic: no map iteration order, time or global
// randomness reaches the result.
func Train(ctx context.Context, examples []Example, cfg TrainConfig) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(examples) == 0 {
		return nil, fmt.Errorf("%w: no examples", ErrBadData)
	}
	m := &Model{feat: cfg.Features, themeAlpha: cfg.ThemeAlpha, knnK: cfg.KNN, knnWeight: cfg.KNNWeight, knnPower: cfg.KNNPower}
	m.buildStems(examples)
	raws := m.buildVocab(examples)
	vecs := make([]sparseVec, len(examples))
	sc := &scratch{}
	for i := range examples {
		sc.raw = raws[i]
		m.vectorizeRaw(sc)
		vecs[i] = sparseVec{ids: slices.Clone(sc.ids), vals: slices.Clone(sc.vals)}
	}
	var ys [numHeads][]int32
	for h := range numHeads {
		m.names[h], ys[h] = classIndex(examples, h)
		m.offset[h] = m.width
		m.width += len(m.names[h])
	}
	m.themeCat = themeCategories(ys[HeadTheme], ys[HeadCategory], len(m.names[HeadTheme]), len(m.names[HeadCategory]))
	m.knn = buildKNN(vecs, ys, len(m.scale))
	m.w = make([]float32, len(m.scale)*m.width)
	m.bias = make([]float32, m.width)
	for h := range numHeads {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		w, b := trainSoftmax(vecs, ys[h], len(m.names[h]), len(m.scale), cfg, cfg.Seed+uint64(h))
		c := len(m.names[h])
		for f := range len(m.scale) {
			for k := range c {
				m.w[f*m.width+m.offset[h]+k] = float32(w[f*c+k])
			}
		}
		for k := range c {
			m.bias[m.offset[h]+k] = float32(b[k])
		}
	}
	m.quantize()
	// The stacker needs every inner fold to hold texts; on tiny data the fixed blend stays.
	if cfg.StackFolds > 1 && len(examples) >= 4*cfg.StackFolds {
		st, err := trainStack(ctx, m, examples, cfg)
		if err != nil {
			return nil, err
		}
		m.stack = st
	}
	return m, nil
}

// buildStems records the stem of every training word so inference rarely runs the (allocating) stemmer.
func (m *Model) buildStems(examples []Example) {
	type pair struct{ surface, stem uint64 }
	seen := map[uint64]uint64{}
	var word []rune
	for _, e := range examples {
		word = word[:0]
		add := func() {
			if len(word) > 0 && !isDigits(word) {
				s := hashRunes(nsSurface, word)
				if _, ok := seen[s]; !ok {
					seen[s] = snowballStem(s, word)
				}
			}
			word = word[:0]
		}
		for _, r := range e.Text {
			if n := normRune(r); n >= 0 {
				word = append(word, n)
			} else {
				add()
			}
		}
		add()
	}
	pairs := make([]pair, 0, len(seen))
	for s, st := range seen {
		pairs = append(pairs, pair{s, st})
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmpU64(a.surface, b.surface) })
	m.setStems(func(yield func(uint64, uint64)) {
		for _, p := range pairs {
			yield(p.surface, p.stem)
		}
	}, len(pairs))
}

func (m *Model) setStems(each func(func(surface, stem uint64)), n int) {
	m.stemIdx = newHashTable(n)
	m.stems = make([]uint64, 0, n)
	each(func(surface, stem uint64) {
		m.stemIdx.put(surface, int32(len(m.stems)))
		m.stems = append(m.stems, stem)
	})
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// buildVocab keeps the features seen in at least MinDF texts, numbered in hash order, with smoothed IDF
// times the block weight as their scale. It returns each example's raw features for reuse.
func (m *Model) buildVocab(examples []Example) [][]rawFeature {
	df := map[uint64]int{}
	isChar := map[uint64]bool{}
	raws := make([][]rawFeature, len(examples))
	sc := &scratch{}
	for i, e := range examples {
		m.feat.extract(e.Text, m.stem, sc)
		raws[i] = slices.Clone(sc.raw)
		hs := make([]uint64, 0, len(sc.raw))
		for _, f := range sc.raw {
			hs = append(hs, f.hash)
			if f.char {
				isChar[f.hash] = true
			}
		}
		slices.Sort(hs)
		for j, h := range hs {
			if j == 0 || hs[j-1] != h {
				df[h]++
			}
		}
	}
	keep := make([]uint64, 0, len(df))
	for h, n := range df {
		if n >= m.feat.MinDF {
			keep = append(keep, h)
		}
	}
	slices.Sort(keep)
	m.vocab = newHashTable(len(keep))
	m.scale = make([]float32, len(keep))
	n := float64(len(examples))
	for i, h := range keep {
		m.vocab.put(h, int32(i))
		s := math.Log((1+n)/(1+float64(df[h]))) + 1
		if isChar[h] {
			s *= float64(m.feat.CharWeight)
		}
		m.scale[i] = float32(s)
	}
	m.vocabHashes = keep
	return raws
}

// vectorizeRaw is vectorize for already extracted raw features.
func (m *Model) vectorizeRaw(sc *scratch) {
	sc.ids = sc.ids[:0]
	for _, f := range sc.raw {
		if id, ok := m.vocab.get(f.hash); ok {
			sc.ids = append(sc.ids, id)
		}
	}
	m.weigh(sc)
}

// classIndex numbers a head's class names in sorted order.
func classIndex(examples []Example, h Head) ([]string, []int32) {
	set := map[string]bool{}
	for _, e := range examples {
		set[e.Label(h)] = true
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	y := make([]int32, len(examples))
	for i, e := range examples {
		y[i] = int32(slices.Index(names, e.Label(h)))
	}
	return names, y
}

// themeCategories maps each theme to its most frequent category (lowest index on ties).
func themeCategories(th, cat []int32, nTheme, nCat int) []int32 {
	counts := make([]int, nTheme*nCat)
	for i := range th {
		counts[int(th[i])*nCat+int(cat[i])]++
	}
	out := make([]int32, nTheme)
	for t := range nTheme {
		best := 0
		for c := 1; c < nCat; c++ {
			if counts[t*nCat+c] > counts[t*nCat+best] {
				best = c
			}
		}
		out[t] = int32(best)
	}
	return out
}

// trainSoftmax fits a multinomial logistic regression with L2 by SGD (Bottou's schedule), keeping the
// weight decay lazy through a global scale so each step costs only the text's non-zeros × classes.
func trainSoftmax(vecs []sparseVec, y []int32, classes, features int, cfg TrainConfig, seed uint64) (w, b []float64) {
	return trainSoftmaxOffset(vecs, nil, y, classes, features, cfg, seed)
}

// trainSoftmaxOffset is trainSoftmax with fixed per-example starting scores off[i] (classes wide; nil
// for none) added to the linear ones: the regression learns a correction of a given model.
func trainSoftmaxOffset(vecs []sparseVec, off [][]float32, y []int32, classes, features int, cfg TrainConfig, seed uint64) (w, b []float64) {
	w = make([]float64, features*classes)
	b = make([]float64, classes)
	scale := 1.0
	rng := rand.New(rand.NewPCG(seed, 0x7e91c0ca))
	order := make([]int, len(vecs))
	for i := range order {
		order[i] = i
	}
	counts := make([]int, classes)
	for _, c := range y {
		counts[c]++
	}
	cw := make([]float64, classes)
	for c, n := range counts {
		if n > 0 {
			cw[c] = math.Pow(float64(len(y))/float64(classes*n), cfg.Balance)
		}
	}
	p := make([]float64, classes)
	t := 0.0
	for range cfg.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			lr := cfg.LR / (1 + cfg.LR*cfg.L2*t)
			t++
			v := vecs[i]
			copy(p, b)
			if off != nil {
				for c := range p {
					p[c] += float64(off[i][c])
				}
			}
			for k, id := range v.ids {
				x := float64(v.vals[k]) * scale
				row := w[int(id)*classes : int(id+1)*classes]
				for c := range p {
					p[c] += x * row[c]
				}
			}
			softmax(p)
			p[y[i]] -= 1 // now the gradient of the loss w.r.t. the scores
			for c := range p {
				p[c] *= cw[y[i]]
			}
			scale *= 1 - lr*cfg.L2
			for k, id := range v.ids {
				x := lr * float64(v.vals[k]) / scale
				row := w[int(id)*classes : int(id+1)*classes]
				for c := range p {
					row[c] -= x * p[c]
				}
			}
			for c := range p {
				b[c] -= lr * p[c]
			}
			if scale < 1e-6 {
				for j := range w {
					w[j] *= scale
				}
				scale = 1
			}
		}
	}
	for j := range w {
		w[j] *= scale
	}
	return w, b
}
