package classify

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

func envF(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return v
	}
	return def
}

func TestDevCV(t *testing.T) {
	path := os.Getenv("TK_DEV_CV")
	if path == "" {
		t.Skip()
	}
	f, _ := os.Open(path)
	ex, st, err := ReadExamples(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(st)
	cfg := DefaultTrainConfig()
	cfg.Features.CharMin = int(envF("TK_CHARMIN", float64(cfg.Features.CharMin)))
	cfg.Features.CharMax = int(envF("TK_CHARMAX", float64(cfg.Features.CharMax)))
	cfg.Features.CharWeight = float32(envF("TK_CW", float64(cfg.Features.CharWeight)))
	cfg.Features.WordNgrams = int(envF("TK_NG", float64(cfg.Features.WordNgrams)))
	cfg.Features.MinDF = int(envF("TK_MINDF", float64(cfg.Features.MinDF)))
	cfg.L2 = envF("TK_L2", cfg.L2)
	cfg.LR = envF("TK_LR", cfg.LR)
	cfg.Epochs = int(envF("TK_EPOCHS", float64(cfg.Epochs)))
	cfg.ThemeAlpha = float32(envF("TK_ALPHA", float64(cfg.ThemeAlpha)))
	cfg.KNN = int(envF("TK_K", float64(cfg.KNN)))
	cfg.KNNWeight = float32(envF("TK_KW", float64(cfg.KNNWeight)))
	cfg.KNNPower = float32(envF("TK_KP", float64(cfg.KNNPower)))
	cfg.Balance = envF("TK_BAL", cfg.Balance)
	t0 := time.Now()
	m, _ := Train(context.Background(), ex, cfg)
	t.Logf("features %d, train %v", m.NumFeatures(), time.Since(t0))
	rep, err := CrossValidate(context.Background(), ex, 5, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for h := range numHeads {
		a, b := rep.Acc(h)
		t.Logf("%-9s %.1f %.1f", h, 100*a, 100*b)
	}
	if os.Getenv("TK_FULL") != "" {
		rep.Write(os.Stdout)
	}
}

func TestDevConfusion(t *testing.T) {
	path := os.Getenv("TK_DEV_CV")
	if path == "" {
		t.Skip()
	}
	f, _ := os.Open(path)
	ex, _, _ := ReadExamples(f)
	cfg := DefaultTrainConfig()
	cfg.Features.CharMax = 0
	cfg.L2 = 1e-5
	h := Head(int(envF("TK_HEAD", 0)))
	fold := stratifiedFolds(ex, 5, 1)
	conf := map[[2]string]int{}
	for k := range 5 {
		var tr, te []Example
		for i, e := range ex {
			if fold[i] == k {
				te = append(te, e)
			} else {
				tr = append(tr, e)
			}
		}
		m, _ := Train(context.Background(), tr, cfg)
		for _, e := range te {
			p := m.Classify(e.Text)
			got := [numHeads]string{p.Category.Name, p.Theme.Name, p.Executor.Name}[h]
			if got != e.Label(h) {
				conf[[2]string{e.Label(h), got}]++
			}
		}
	}
	type kv struct {
		k [2]string
		v int
	}
	var all []kv
	for k, v := range conf {
		all = append(all, kv{k, v})
	}
	slices.SortFunc(all, func(a, b kv) int { return b.v - a.v })
	for _, x := range all[:min(25, len(all))] {
		t.Logf("%3d  %s  →  %s", x.v, x.k[0], x.k[1])
	}
}
