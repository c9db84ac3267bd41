package classify

import (
	"context"
	"slices"
)

// stacker is the second level of the model. The first level — the logistic regressions and the
// neighbours' votes — gives every class of every head a probability; a fixed blend of the two was the
// whole model before. The stacker starts from the log of that blend and adds, per head, a multinomial
// logistic regression over the first level's outputs of all three heads:
//
//	score(h, c) = log((1-w)·lr(h, c) + w·votes(h, c) + ε) + bias(h, c) + Σ_i z_i · W[i, (h, c)]
//
// where z holds the LR probabilities and votes of every head (entries below stackMin left out). It is
// trained on out-of-fold first-level outputs (StackFolds inner folds of the training data, so it sees
// how the first level errs on texts it was not trained on), with L2 (per head, see TrainConfig.StackL2)
// so that it stays close to the blend where the data says nothing. It learns how far to trust each
// source per class and how the heads inform one another: a theme's probability says much about the
// category and the agency, an agency's about the category. (See docs/classification.md for the measured gain.)
type stacker struct {
	knnWeight float32
	w         []float32 // 2·width × width, input-major: W[i, col] = w[i*width+col]
	bias      []float32 // width
}

const (
	stackMin = 0.01 // first-level outputs below this are left out of the stacker's sparse input
	stackEps = 1e-4 // floor of the blend inside the log
)

// stackInput appends the sparse input of the stacker (LR probabilities at 0..width-1, votes at
// width..2·width-1) to ids/vals.
func stackInput(lr, votes []float32, ids []int32, vals []float32) ([]int32, []float32) {
	ids, vals = appendAboveMin(ids, vals, lr, 0)
	return appendAboveMin(ids, vals, votes, len(lr))
}

// appendAboveMin appends base+c and s[c] for every s[c] > stackMin. Most classes are far below it: above
// skips them eight at a time.
func appendAboveMin(ids []int32, vals []float32, s []float32, base int) ([]int32, []float32) {
	for c := 0; ; c++ {
		if c += above(s[c:], stackMin); c >= len(s) {
			break
		}
		if v := s[c]; v > stackMin { // above stops at a NaN too
			ids, vals = append(ids, int32(base+c)), append(vals, v)
		}
	}
	return ids, vals
}

// stackOffset is the stacker's starting score of a class: the log of the first level's blend.
func stackOffset(lr, vote, knnWeight float32) float32 { return logPos(stackBlend(lr, vote, knnWeight)) }

// stackBlend is the first level's blend of a class, floored by stackEps.
func stackBlend(lr, vote, knnWeight float32) float32 {
	return float32(float32((1-knnWeight)*lr)+float32(knnWeight*vote)) + stackEps
}

// firstLevel computes the first level's outputs of text into sc.scores (LR probabilities, each head
// summing to 1) and sc.votes (neighbour votes, each head summing to 1 or all 0 without neighbours).
func (m *Model) firstLevel(text string, sc *scratch) {
	m.vectorize(text, sc)
	m.scoresInto(sc)
	for h := range numHeads {
		softmax32(m.headSlice(sc.scores, h))
	}
	if cap(sc.votes) < m.width {
		sc.votes = make([]float32, m.width)
	}
	sc.votes = sc.votes[:m.width]
	clear(sc.votes)
	if m.knnK > 0 {
		sc.sims, sc.top = m.knn.vote(sc.ids, sc.vals, m.knnK, m.knnPower, sc.sims, sc.top, m, sc.votes)
	}
}

// apply turns the first level's outputs in sc into the stacker's probabilities in sc.scores.
func (st *stacker) apply(m *Model, sc *scratch) {
	lr, votes := sc.scores[:m.width], sc.votes[:m.width]
	sc.zids, sc.zvals = stackInput(lr, votes, sc.zids[:0], sc.zvals[:0])
	// stackOffset for every class, with the logarithms taken together (vectorized).
	for c := range lr {
		lr[c] = stackBlend(lr[c], votes[c], st.knnWeight)
	}
	logs(lr)
	for c := range lr {
		lr[c] += st.bias[c]
	}
	axpyRows(lr, st.w, m.width, sc.zids, sc.zvals)
	for h := range numHeads {
		softmax32(m.headSlice(lr, h))
	}
}

// trainStack fits the stacker of model m (whose first level is trained on examples) on the out-of-fold
// first-level outputs of cfg.StackFolds inner folds.
func trainStack(ctx context.Context, m *Model, examples []Example, cfg TrainConfig) (*stacker, error) {
	width := m.width
	fold := stratifiedFolds(examples, cfg.StackFolds, cfg.Seed+0x57ac)
	sub := cfg
	sub.StackFolds = 0
	zs := make([]sparseVec, len(examples))
	offs := make([][]float32, len(examples))
	lr := make([]float32, width)
	votes := make([]float32, width)
	for f := range cfg.StackFolds {
		tr, te := splitFold(examples, fold, f)
		base, err := Train(ctx, tr, sub)
		if err != nil {
			return nil, err
		}
		// The inner model may lack rare classes: map its columns onto m's.
		cols := make([]int, base.width)
		for h := range numHeads {
			for c, n := range base.names[h] {
				cols[base.offset[h]+c] = m.offset[h] + slices.Index(m.names[h], n)
			}
		}
		sc := base.getScratch()
		for _, i := range te {
			base.firstLevel(examples[i].Text, sc)
			clear(lr)
			clear(votes)
			for c, to := range cols {
				lr[to], votes[to] = sc.scores[c], sc.votes[c]
			}
			o := make([]float32, width)
			for c := range o {
				o[c] = stackOffset(lr[c], votes[c], cfg.KNNWeight)
			}
			offs[i] = o
			ids, vals := stackInput(lr, votes, nil, nil)
			zs[i] = sparseVec{ids: ids, vals: vals}
		}
	}
	st := &stacker{knnWeight: cfg.KNNWeight, w: make([]float32, 2*width*width), bias: make([]float32, width)}
	c2 := cfg
	c2.LR, c2.Epochs, c2.Balance = cfg.StackLR, cfg.StackEpochs, cfg.StackBalance
	for h := range numHeads {
		c2.L2 = cfg.StackL2[h]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, o := len(m.names[h]), m.offset[h]
		y := make([]int32, len(examples))
		ho := make([][]float32, len(examples))
		for i, e := range examples {
			y[i] = int32(slices.Index(m.names[h], e.Label(h)))
			ho[i] = offs[i][o : o+n]
		}
		w, b := trainSoftmaxOffset(zs, ho, y, n, 2*width, c2, cfg.Seed+0x57ac+uint64(h))
		for i := range 2 * width {
			for c := range n {
				st.w[i*width+o+c] = float32(w[i*n+c])
			}
		}
		for c := range n {
			st.bias[o+c] = float32(b[c])
		}
	}
	return st, nil
}
