package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/teplokarta/teplokarta/internal/model"
)

// Local authenticates the tokens of a single-machine demo run (`teplokarta run`): one curator token and
// a token for every agency the router may name, derived from a secret made at start instead of listed
// in a file — the agencies are whatever the classifier and routing produce, and the simulated executors
// need a token for each. A token is "ag1.<base64url name>.<HMAC>" or "cur1.<HMAC>"; it is valid only for
// the process that made the secret.
type Local struct{ secret []byte }

// CuratorName is the principal name of the local curator token.
const CuratorName = "local-curator"

// NewLocal makes a fresh random secret.
func NewLocal() (*Local, error) {
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		return nil, fmt.Errorf("auth: local secret: %w", err)
	}
	return &Local{secret: s}, nil
}

// NewLocalSecret derives the tokens from a secret shared by two processes (the compose stack's SLA
// engine and its simulated executors). It must be at least 16 bytes.
func NewLocalSecret(secret string) (*Local, error) {
	if len(secret) < 16 {
		return nil, fmt.Errorf("auth: the agency token secret must be at least 16 bytes, got %d", len(secret))
	}
	return &Local{secret: []byte(secret)}, nil
}

// Authenticator is anything that resolves an Authorization header.
type Authenticator interface {
	Authenticate(header string) (Principal, error)
}

// Any accepts a token any of its authenticators accepts (a tokens file and derived tokens side by side).
type Any []Authenticator

// Authenticate tries each authenticator in order.
func (a Any) Authenticate(header string) (Principal, error) {
	err := fmt.Errorf("%w: no authenticator", ErrUnauthorized)
	for _, x := range a {
		var p Principal
		if p, err = x.Authenticate(header); err == nil {
			return p, nil
		}
	}
	return Principal{}, err
}

func (l *Local) mac(what string) string {
	h := hmac.New(sha256.New, l.secret)
	h.Write([]byte(what))
	return hex.EncodeToString(h.Sum(nil))[:40]
}

// CuratorToken is the token of the local curator.
func (l *Local) CuratorToken() string { return "cur1." + l.mac("curator") }

// AgencyToken is the token of an agency.
func (l *Local) AgencyToken(agency string) string {
	return "ag1." + base64.RawURLEncoding.EncodeToString([]byte(agency)) + "." + l.mac("agency:"+agency)
}

// Authenticate resolves an Authorization header value ("Bearer <token>").
func (l *Local) Authenticate(header string) (Principal, error) {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || tok == "" {
		return Principal{}, fmt.Errorf("%w: missing bearer token", ErrUnauthorized)
	}
	tok = strings.TrimSpace(tok)
	if mac, ok := strings.CutPrefix(tok, "cur1."); ok && hmac.Equal([]byte(mac), []byte(l.mac("curator"))) {
		return Principal{Name: CuratorName, Role: model.RoleCurator}, nil
	}
	if rest, ok := strings.CutPrefix(tok, "ag1."); ok {
		enc, mac, _ := strings.Cut(rest, ".")
		name, err := base64.RawURLEncoding.DecodeString(enc)
		if err == nil && len(name) > 0 && hmac.Equal([]byte(mac), []byte(l.mac("agency:"+string(name)))) {
			return Principal{Name: string(name), Role: model.RoleAgency, Agency: string(name)}, nil
		}
	}
	return Principal{}, fmt.Errorf("%w: unknown token", ErrUnauthorized)
}
