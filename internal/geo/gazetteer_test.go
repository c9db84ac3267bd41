package geo

import (
	"errors"
	"testing"
)

func TestDefaultGazetteer(t *testing.T) {
	g := Default()
	all := g.All()
	if len(all) != 29 {
		t.Fatalf("want 29 municipalities of Ryazan oblast, got %d", len(all))
	}
	urban := 0
	for _, m := range all {
		if m.Kind == KindUrbanOkrug {
			urban++
			if m.Population == 0 {
				t.Errorf("urban okrug %s has no population", m.Name)
			}
		} else if m.Population != 0 {
			t.Errorf("district %s got a town's population %d", m.Name, m.Population)
		}
	}
	if urban != 4 {
		t.Fatalf("want 4 urban okrugs, got %d", urban)
	}
	tests := []struct {
		code, name string
		err        error
	}{
		{"61701000", "Рязань", nil},
		{"61658000", "Шиловский район", nil},
		{"61705000001", "Касимов", nil},
		{"99999999", "", ErrUnknownOKTMO},
	}
	for _, tc := range tests {
		m, err := g.ByOKTMO(tc.code)
		if !errors.Is(err, tc.err) {
			t.Fatalf("%s: err %v, want %v", tc.code, err, tc.err)
		}
		if err == nil && m.DisplayName() != tc.name {
			t.Errorf("%s: name %q, want %q", tc.code, m.DisplayName(), tc.name)
		}
	}
	if g.Name("") != "не определено" {
		t.Errorf("empty code should be unresolved")
	}
}
