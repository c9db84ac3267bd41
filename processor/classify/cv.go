package classify

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
)

// HeadScore is the accuracy of one head over a cross-validation.
type HeadScore struct {
	Top1, Top3 int
}

// CategoryScore counts one true category's texts and how many of them got it as top-1.
type CategoryScore struct {
	Name           string
	Count, Correct int
}

// CVReport is the result of k-fold cross-validation.
type CVReport struct {
	K, N       int
	Seed       uint64
	Heads      [numHeads]HeadScore
	Routed     *HeadScore      // executor after routing, when CrossValidate was given a RouteFunc
	Categories []CategoryScore // by count, descending
}

// RouteFunc turns a model prediction about text into the final agency with its top-3 (the pipeline's
// resolver + router); cross-validation scores it as "executor (routed)".
type RouteFunc func(text string, p Prediction) []Label

// Acc returns top-1 and top-3 accuracy of a head as fractions.
func (r CVReport) Acc(h Head) (top1, top3 float64) {
	if r.N == 0 {
		return 0, 0
	}
	return float64(r.Heads[h].Top1) / float64(r.N), float64(r.Heads[h].Top3) / float64(r.N)
}

// Write prints the report as a small table.
func (r CVReport) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d-fold stratified cross-validation, %d texts, seed %d\n\n", r.K, r.N, r.Seed)
	fmt.Fprintf(&b, "%-9s %7s %7s\n", "head", "top-1", "top-3")
	for h := range numHeads {
		t1, t3 := r.Acc(h)
		fmt.Fprintf(&b, "%-9s %6.1f%% %6.1f%%\n", h, 100*t1, 100*t3)
	}
	if r.Routed != nil && r.N > 0 {
		fmt.Fprintf(&b, "%-9s %6.1f%% %6.1f%%   (executor after municipality routing)\n", "routed",
			100*float64(r.Routed.Top1)/float64(r.N), 100*float64(r.Routed.Top3)/float64(r.N))
	}
	fmt.Fprintf(&b, "\n%-60s %5s %7s %6s\n", "category", "texts", "correct", "top-1")
	for _, c := range r.Categories {
		fmt.Fprintf(&b, "%-60s %5d %7d %5.1f%%\n", c.Name, c.Count, c.Correct, 100*float64(c.Correct)/float64(c.Count))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// CrossValidate trains k models, each on all folds but one, and scores the held-out fold. Folds are
// stratified by category (each category's texts dealt round-robin after a seeded shuffle) so rare
// categories appear in every fold they can. Labels unseen in a fold's training part count as misses.
//
// The model alone is scored (no taxonomy rules: they cover topics the data lacks). With route non-nil
// the routed executor is scored as well.
func CrossValidate(ctx context.Context, examples []Example, k int, cfg TrainConfig, route RouteFunc) (CVReport, error) {
	rep := CVReport{K: k, N: len(examples), Seed: cfg.Seed}
	if route != nil {
		rep.Routed = &HeadScore{}
	}
	if k < 2 || k > len(examples) {
		return rep, fmt.Errorf("classify: %d folds for %d examples: want 2 <= k <= examples", k, len(examples))
	}
	fold := stratifiedFolds(examples, k, cfg.Seed)
	perCat := map[string]*CategoryScore{}
	for f := range k {
		train, held := splitFold(examples, fold, f)
		test := make([]Example, len(held))
		for j, i := range held {
			test[j] = examples[i]
		}
		m, err := Train(ctx, train, cfg)
		if err != nil {
			return rep, fmt.Errorf("fold %d: %w", f+1, err)
		}
		for _, e := range test {
			cs := perCat[e.Category]
			if cs == nil {
				cs = &CategoryScore{Name: e.Category}
				perCat[e.Category] = cs
			}
			cs.Count++
			if route != nil {
				for r, l := range route(e.Text, m.Classify(e.Text)) {
					if l.Name == e.Executor {
						if r == 0 {
							rep.Routed.Top1++
						}
						if r < 3 {
							rep.Routed.Top3++
						}
						break
					}
				}
			}
			for h := range numHeads {
				c := slices.Index(m.names[h], e.Label(h))
				if c < 0 {
					continue
				}
				r := m.rank(e.Text, h, c)
				if r == 0 {
					rep.Heads[h].Top1++
					if h == HeadCategory {
						cs.Correct++
					}
				}
				if r < 3 {
					rep.Heads[h].Top3++
				}
			}
		}
	}
	for _, c := range perCat {
		rep.Categories = append(rep.Categories, *c)
	}
	slices.SortFunc(rep.Categories, func(a, b CategoryScore) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Name, b.Name)
	})
	return rep, nil
}

func stratifiedFolds(examples []Example, k int, seed uint64) []int {
	byCat := map[string][]int{}
	for i, e := range examples {
		byCat[e.Category] = append(byCat[e.Category], i)
	}
	cats := make([]string, 0, len(byCat))
	for c := range byCat {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	rng := rand.New(rand.NewPCG(seed, 0xf01d5))
	fold := make([]int, len(examples))
	next := 0
	for _, c := range cats {
		idx := byCat[c]
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, i := range idx {
			fold[i] = next % k
			next++
		}
	}
	return fold
}

// splitFold returns the examples outside fold f, in order, and the indices of those inside it.
func splitFold(examples []Example, fold []int, f int) (train []Example, held []int) {
	for i, e := range examples {
		if fold[i] == f {
			held = append(held, i)
		} else {
			train = append(train, e)
		}
	}
	return train, held
}
