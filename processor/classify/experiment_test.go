package classify_test

// Experiment harness for the classifier's quality work (docs/classification.md, «Tried and measured»).
// Skipped unless TEPLOKARTA_EXP names the variants:
//
//	TEPLOKARTA_EXP='base,StackFolds=0,StackL2=0.001/StackLR=0.03' nice -n 10 go test -v -run TestExperimentCV ./processor/classify/
//
// A variant is "base" (the defaults) or Field=value pairs of TrainConfig joined by "/". Each prints
// top-1 and top-3 of a 5-fold cross-validation (the same folds and routing as `teplokarta train --cv 5`;
// TEPLOKARTA_EXP_SEED changes the seed). Everything a variant learns from labels must be learned inside
// Train, so that here it sees only the training folds.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/teplokarta/teplokarta/internal/geo"
	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/internal/testenv"
	"github.com/teplokarta/teplokarta/processor/classify"
	"github.com/teplokarta/teplokarta/processor/resolve"
	"github.com/teplokarta/teplokarta/processor/route"
)

func TestExperimentCV(t *testing.T) {
	names := os.Getenv("TEPLOKARTA_EXP")
	if names == "" {
		t.Skip("set TEPLOKARTA_EXP to run classifier experiments")
	}
	f, err := os.Open(filepath.Join(testenv.SharedData(t), "nashdom-ryazan", "train.csv"))
	if err != nil {
		t.Fatal(err)
	}
	ex, _, err := classify.ReadExamples(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	res := resolve.New(geo.Default())
	rt, err := route.Load("")
	if err != nil {
		t.Fatal(err)
	}
	// The same routing as cmd/teplokarta's `routed`.
	routeFn := func(text string, p classify.Prediction) []classify.Label {
		a := model.Appeal{Text: text, Agency: p.Executor.Name}
		mun, method, ok := res.Resolve(&a)
		agency, conf := rt.Route(p, mun, ok && method != resolve.MethodAgency)
		if agency == p.Executor.Name {
			return p.Top3.Executor
		}
		out := []classify.Label{{Name: agency, Conf: conf}}
		for _, l := range p.Top3.Executor {
			if len(out) < 3 && l.Name != agency {
				out = append(out, l)
			}
		}
		return out
	}
	seed := uint64(1)
	if s := os.Getenv("TEPLOKARTA_EXP_SEED"); s != "" {
		if _, err := fmt.Sscan(s, &seed); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range strings.Split(names, ",") {
		cfg := classify.DefaultTrainConfig()
		cfg.Seed = seed
		setFields(t, &cfg, name)
		rep, err := classify.CrossValidate(context.Background(), ex, 5, cfg, routeFn)
		if err != nil {
			t.Fatal(err)
		}
		c1, c3 := rep.Acc(classify.HeadCategory)
		t1, t3 := rep.Acc(classify.HeadTheme)
		e1, e3 := rep.Acc(classify.HeadExecutor)
		r1, r3 := float64(rep.Routed.Top1)/float64(rep.N), float64(rep.Routed.Top3)/float64(rep.N)
		t.Logf("%-40s category %5.1f %5.1f  theme %5.1f %5.1f  executor %5.1f %5.1f  routed %5.1f %5.1f", name,
			100*c1, 100*c3, 100*t1, 100*t3, 100*e1, 100*e3, 100*r1, 100*r3)
	}
}

// setFields applies "Field=value/Field=value…" to cfg; "base" changes nothing.
func setFields(t testing.TB, cfg *classify.TrainConfig, spec string) {
	t.Helper()
	if spec == "base" {
		return
	}
	rv := reflect.ValueOf(cfg).Elem()
	for _, kv := range strings.Split(spec, "/") {
		k, val, _ := strings.Cut(kv, "=")
		f := rv.FieldByName(k)
		var err error
		switch f.Kind() {
		case reflect.Int:
			var x int64
			_, err = fmt.Sscan(val, &x)
			f.SetInt(x)
		case reflect.Uint64:
			var x uint64
			_, err = fmt.Sscan(val, &x)
			f.SetUint(x)
		case reflect.Float32, reflect.Float64:
			var x float64
			_, err = fmt.Sscan(val, &x)
			f.SetFloat(x)
		default:
			t.Fatalf("variant %q: no settable field %q", spec, k)
		}
		if err != nil {
			t.Fatalf("variant %q: %s: %v", spec, k, err)
		}
	}
}
