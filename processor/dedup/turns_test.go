package dedup

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
)

func TestScopeTurns(t *testing.T) {
	s := newScopeTurns()
	lsh := func(region, oktmo string) *item {
		return &item{a: &model.Appeal{Region: region, OKTMO: oktmo}, lsh: true}
	}
	short := &item{a: &model.Appeal{Region: "RU-MOW", OKTMO: "45000000"}}

	if one := s.stripesOf([]*item{lsh("RU-RYA", "61701000"), lsh("RU-RYA", "61701000"), short}); len(one) != 1 {
		t.Fatalf("one scope (and an item matched by id only): stripes %v, want one", one)
	}
	var many []*item
	for _, o := range []string{"61701000", "61705000", "61710000", "61715000", "", "61620000"} {
		many = append(many, lsh("RU-RYA", o))
	}
	all := s.stripesOf(many)
	if len(all) < 2 {
		t.Fatalf("six scopes fell on %d stripe(s)", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i] <= all[i-1] {
			t.Fatalf("stripes %v: want ascending without repeats (the order that keeps two batches from waiting in a cycle)", all)
		}
	}
	bg := context.Background()
	soon := func() context.Context {
		ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}

	// Shared turns run side by side.
	a, err := s.shared(bg, many)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.shared(soon(), many)
	if err != nil {
		t.Fatalf("a second shared turn: %v, want it at once", err)
	}
	b.release()
	a.release()

	// An exclusive turn waits for a shared one on any of its scopes, and when its context ends first it
	// gives back the stripes it had already taken.
	top := all[len(all)-1]
	var onTop, below []*item
	for _, it := range many {
		if s.stripesOf([]*item{it})[0] == top {
			onTop = append(onTop, it)
		} else {
			below = append(below, it)
		}
	}
	hold, err := s.shared(bg, onTop)
	if err != nil {
		t.Fatal(err)
	}
	x := &turn{s: s}
	if err := x.exclusive(soon(), many); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("exclusive while a shared turn is held: %v, want the context's deadline", err)
	}
	if err := x.exclusive(soon(), below); err != nil {
		t.Fatalf("exclusive on the other scopes after a cancelled take: %v (it kept what it had taken)", err)
	}
	x.release()
	hold.release()

	// An exclusive turn keeps shared ones out until it is given back.
	if err := x.exclusive(bg, many); err != nil {
		t.Fatal(err)
	}
	if _, err := s.shared(soon(), many[:1]); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shared while exclusive: %v, want the context's deadline", err)
	}
	x.release()
	x.release() // harmless
	c, err := s.shared(soon(), many)
	if err != nil {
		t.Fatalf("shared after exclusive was given back: %v", err)
	}
	c.release()
}
