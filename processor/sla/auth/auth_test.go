package auth

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/teplokarta/teplokarta/internal/model"
)

func TestAuthenticate(t *testing.T) {
	tok, err := New(File{Agencies: map[string][]string{"ЖКХ-Рязань": {"agency-token-0000001"}},
		Curators: map[string][]string{"ivanova": {"curator-token-000001"}}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		header string
		want   Principal
		err    error
	}{
		{"Bearer agency-token-0000001", Principal{"ЖКХ-Рязань", model.RoleAgency, "ЖКХ-Рязань"}, nil},
		{"Bearer curator-token-000001", Principal{"ivanova", model.RoleCurator, ""}, nil},
		{"Bearer agency-token-0000002", Principal{}, ErrUnauthorized},
		{"agency-token-0000001", Principal{}, ErrUnauthorized},
		{"", Principal{}, ErrUnauthorized},
	}
	for _, c := range cases {
		got, err := tok.Authenticate(c.header)
		if !errors.Is(err, c.err) || got != c.want {
			t.Errorf("%q: %+v %v, want %+v %v", c.header, got, err, c.want, c.err)
		}
	}
}

func TestNewRefusesWeakOrSharedTokens(t *testing.T) {
	for name, f := range map[string]File{
		"short":  {Curators: map[string][]string{"a": {"short"}}},
		"shared": {Curators: map[string][]string{"a": {"same-token-0000000"}}, Agencies: map[string][]string{"b": {"same-token-0000000"}}},
		"empty":  {},
	} {
		if _, err := New(f); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestExampleFileLoads(t *testing.T) {
	if _, err := Load(filepath.Join("..", "..", "..", "deploy", "sla-tokens.example.yaml")); err != nil {
		t.Fatal(err)
	}
}
