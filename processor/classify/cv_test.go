package classify

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
)

func TestStratifiedFolds(t *testing.T) {
	ex := miniExamples(t)
	for _, k := range []int{2, 3, 4} {
		fold := stratifiedFolds(ex, k, 7)
		perCat := map[string][]int{}
		for i, e := range ex {
			if fold[i] < 0 || fold[i] >= k {
				t.Fatalf("k=%d: fold %d out of range", k, fold[i])
			}
			if perCat[e.Category] == nil {
				perCat[e.Category] = make([]int, k)
			}
			perCat[e.Category][fold[i]]++
		}
		for cat, counts := range perCat {
			lo, hi := counts[0], counts[0]
			for _, c := range counts {
				lo, hi = min(lo, c), max(hi, c)
			}
			if hi-lo > 1 {
				t.Errorf("k=%d: %s spread %v over folds, want within one", k, cat, counts)
			}
		}
	}
}

func TestCrossValidate(t *testing.T) {
	ex := miniExamples(t)
	cfg := DefaultTrainConfig()
	rep, err := CrossValidate(context.Background(), ex, 4, cfg, func(_ string, p Prediction) []Label {
		return []Label{{Name: "Госжилинспекция", Conf: 1}} // a fixed router: scores the routed row's bookkeeping
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range rep.Categories {
		n += c.Count
	}
	if rep.N != len(ex) || n != len(ex) {
		t.Fatalf("N %d, category counts sum %d, want %d", rep.N, n, len(ex))
	}
	for h := range numHeads {
		t1, t3 := rep.Acc(h)
		if t1 > t3 {
			t.Errorf("%s: top-1 %.2f > top-3 %.2f", h, t1, t3)
		}
	}
	// Five well-separated topics with distinct vocabularies: far above the 20 % of guessing.
	if t1, _ := rep.Acc(HeadCategory); t1 < 0.6 {
		t.Errorf("category top-1 %.2f on separable data", t1)
	}
	if rep.Routed.Top1 != 4 { // the four «Госжилинспекция» texts
		t.Errorf("routed top-1 %d, want 4", rep.Routed.Top1)
	}
	var b bytes.Buffer
	if err := rep.Write(&b); err != nil || !strings.Contains(b.String(), "routed") || !strings.Contains(b.String(), "Дороги") {
		t.Errorf("report %q, err %v", b.String(), err)
	}
	if _, err := CrossValidate(context.Background(), ex, 1, cfg, nil); err == nil {
		t.Error("k=1 accepted")
	}
}

// TestStackerTrainedAndStored checks that the default configuration trains the second level, that it
// changes the answers' probabilities, that it survives the file, and that a version-1 file (no stacker)
// still loads as the fixed blend.
func TestStackerTrainedAndStored(t *testing.T) {
	ex := miniExamples(t)
	cfg := DefaultTrainConfig()
	m, err := Train(context.Background(), ex, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m.stack == nil {
		t.Fatal("default configuration trained no stacker")
	}
	back, err := Read(bytes.NewReader(modelBytes(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	if back.stack == nil || !slices.Equal(back.stack.w, m.stack.w) || !slices.Equal(back.stack.bias, m.stack.bias) {
		t.Fatal("stacker lost or changed in the file")
	}
	cfg.StackFolds = 0
	blend, err := Train(context.Background(), ex, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if blend.stack != nil {
		t.Fatal("StackFolds 0 trained a stacker")
	}
	text := ex[0].Text
	if p, q := m.Classify(text), blend.Classify(text); p.Top3.Category[0].Conf == q.Top3.Category[0].Conf {
		t.Errorf("stacker did not change the probabilities: %+v", p.Top3.Category)
	}
	// A version-1 file is a version-2 file of a model without stacker, minus the stacker flag.
	raw := gunzip(t, modelBytes(t, blend))
	if !bytes.HasPrefix(raw, []byte(modelMagic)) || raw[len(raw)-1] != 0 {
		t.Fatal("unexpected layout of a stacker-less model")
	}
	v1 := append([]byte(modelMagicV1), raw[len(modelMagic):len(raw)-1]...)
	old, err := Read(bytes.NewReader(gzipBytes(t, v1)))
	if err != nil {
		t.Fatalf("version-1 file: %v", err)
	}
	if p, q := old.Classify(text), blend.Classify(text); p.Top3.Category[0] != q.Top3.Category[0] {
		t.Errorf("version-1 file answers %+v, the model %+v", p.Top3.Category[0], q.Top3.Category[0])
	}
}
