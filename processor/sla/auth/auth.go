// Package auth maps bearer tokens to principals: each agency has its own token(s), curators theirs.
// The tokens file is YAML (see deploy/sla-tokens.example.yaml). Tokens are compared by their SHA-256,
// so the in-memory table holds no plain token and lookups take the same time for every miss.
package auth

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/teplokarta/teplokarta/internal/model"
)

// ErrUnauthorized: no token, or an unknown one.
var ErrUnauthorized = errors.New("unauthorized")

// Principal is who sent a request.
type Principal struct {
	Name   string // agency name, or curator login
	Role   string // model.RoleAgency or model.RoleCurator
	Agency string // for agencies: the agency, the only one whose appeals it may touch
}

// File is the tokens file: name → token list.
type File struct {
	Agencies map[string][]string `yaml:"agencies"`
	Curators map[string][]string `yaml:"curators"`
}

// Tokens authenticates bearer tokens.
type Tokens struct {
	byHash map[[32]byte]Principal
}

// New builds the table; an empty or repeated token is an error (two principals must never share one).
func New(f File) (*Tokens, error) {
	t := &Tokens{byHash: map[[32]byte]Principal{}}
	var errs []error
	add := func(tok string, p Principal) {
		if len(tok) < 16 {
			errs = append(errs, fmt.Errorf("auth: token of %s %q is shorter than 16 characters", p.Role, p.Name))
			return
		}
		h := sha256.Sum256([]byte(tok))
		if _, dup := t.byHash[h]; dup {
			errs = append(errs, fmt.Errorf("auth: a token of %s %q is used twice", p.Role, p.Name))
			return
		}
		t.byHash[h] = p
	}
	for name, toks := range f.Agencies {
		for _, tok := range toks {
			add(tok, Principal{Name: name, Role: model.RoleAgency, Agency: name})
		}
	}
	for name, toks := range f.Curators {
		for _, tok := range toks {
			add(tok, Principal{Name: name, Role: model.RoleCurator})
		}
	}
	if len(t.byHash) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("auth: no tokens configured"))
	}
	return t, errors.Join(errs...)
}

// Load reads a tokens file.
func Load(path string) (*Tokens, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	var f File
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("auth: %s: %w", path, err)
	}
	return New(f)
}

// Authenticate resolves an Authorization header value ("Bearer <token>").
func (t *Tokens) Authenticate(header string) (Principal, error) {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || tok == "" {
		return Principal{}, fmt.Errorf("%w: missing bearer token", ErrUnauthorized)
	}
	p, ok := t.byHash[sha256.Sum256([]byte(strings.TrimSpace(tok)))]
	if !ok {
		return Principal{}, fmt.Errorf("%w: unknown token", ErrUnauthorized)
	}
	return p, nil
}
