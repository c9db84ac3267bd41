package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/teplokarta/teplokarta/internal/cli"
	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/processor/classify"
	"github.com/teplokarta/teplokarta/processor/resolve"
	"github.com/teplokarta/teplokarta/processor/route"
)

// runTrain builds the classifier model from a labeled CSV, or with --cv reports k-fold accuracy.
func runTrain(ctx context.Context, env *cli.Env, args []string) error {
	fs := cli.NewFlagSet(env, "train", "Train the classifier from a labeled CSV (id,text,category,theme,executor).\n"+
		"With --cv K print a stratified K-fold accuracy report instead of writing a model.")
	data := fs.String("data", "", "labeled CSV file (required)")
	out := fs.String("out", "processor/classify/model/nashdom-ryazan.model.gz", "where to write the model")
	cv := fs.Int("cv", 0, "k for k-fold cross-validation; 0 trains and writes the model")
	seed := fs.Int64("seed", 1, "random seed (folds, SGD order); same data + seed = same model bytes")
	taxonomy := fs.String("taxonomy", "", "taxonomy YAML to check rule hits against the data (default: embedded)")
	routing := fs.String("routing", "", "routing YAML for the routed-executor score of --cv (default: embedded)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" || fs.NArg() > 0 || *cv < 0 || *cv == 1 || *seed < 0 {
		fs.Usage()
		return errUsage
	}
	f, err := os.Open(*data)
	if err != nil {
		return err
	}
	examples, stats, err := classify.ReadExamples(f)
	f.Close()
	if err != nil {
		return err
	}
	env.Log.Info("training data", "file", *data, "stats", stats.String())
	tax, err := classify.LoadTaxonomy(*taxonomy)
	if err != nil {
		return err
	}
	if hits := ruleHits(tax, examples); hits > 0 {
		env.Log.Warn("taxonomy rules fire on labeled texts and would override their labels", "texts", hits)
	}
	cfg := classify.DefaultTrainConfig()
	cfg.Seed = uint64(*seed)
	start := time.Now()
	if *cv > 0 {
		rt, err := route.Load(*routing)
		if err != nil {
			return err
		}
		res := resolve.New(geo.Default())
		routeFn := func(text string, p classify.Prediction) []classify.Label {
			top3, _, _ := routed(res, rt, text, p)
			return top3
		}
		rep, err := classify.CrossValidate(ctx, examples, *cv, cfg, routeFn)
		if err != nil {
			return err
		}
		env.Log.Info("cross-validation done", "elapsed", time.Since(start).Round(time.Millisecond))
		return rep.Write(env.Stdout)
	}
	m, err := classify.Train(ctx, examples, cfg)
	if err != nil {
		return err
	}
	if err := m.WriteFile(*out); err != nil {
		return err
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	env.Log.Info("model written", "path", *out, "bytes", st.Size(), "features", m.NumFeatures(),
		"elapsed", time.Since(start).Round(time.Millisecond))
	fmt.Fprintln(env.Stdout, *out)
	return nil
}

func ruleHits(t *classify.Taxonomy, examples []classify.Example) int {
	n := 0
	for _, e := range examples {
		if _, ok := t.Match(e.Text); ok {
			n++
		}
	}
	return n
}
