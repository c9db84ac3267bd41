package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
	"sync"
)

// LocalKey is the built-in identity key of local mode (`make run`, `teplokarta run`, tests). It is public,
// so hashes made with it can be reversed by hashing every phone number: CheckKey refuses it outside local
// mode.
const LocalKey = "teplokarta-local-only-identity-key"

// MinKeyBytes is the shortest production key accepted: the key is all that stands between a stored hash
// and a dictionary of the region's phone numbers.
const MinKeyBytes = 16

// HashIdentity is what is stored instead of a person's identity (phone, account id, name): the first 12
// bytes of HMAC-SHA256(key, normalized identity), hex. The same person hashes the same way across sources
// (dedup needs that) but cannot be looked up without the key. Empty identity → empty hash.
func HashIdentity(key, identity string) string { return NewIdentityHasher(key).Hash(identity) }

// IdentityHasher is HashIdentity for one key, for every message: it keeps keyed HMACs to reset instead of
// deriving the key's pads for each identity (hmac.New was 1 % of the processor's CPU and 460 bytes per
// message). Safe for concurrent use.
type IdentityHasher struct {
	key  []byte
	macs sync.Pool
}

// NewIdentityHasher returns the hasher of key.
func NewIdentityHasher(key string) *IdentityHasher {
	h := &IdentityHasher{key: []byte(key)}
	h.macs.New = func() any { return hmac.New(sha256.New, h.key) }
	return h
}

// Hash is HashIdentity(key, identity).
func (h *IdentityHasher) Hash(identity string) string {
	identity = strings.TrimSpace(strings.ToLower(identity))
	if identity == "" {
		return ""
	}
	mac := h.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write([]byte(identity))
	var sum [sha256.Size]byte
	out := hex.EncodeToString(mac.Sum(sum[:0])[:12])
	h.macs.Put(mac)
	return out
}

// Errors of CheckKey.
var (
	ErrNoKey       = errors.New("no identity key: set --pii-key or --pii-key-file (TEPLOKARTA_PII_KEY[_FILE]), or run in local mode (--local)")
	ErrLocalKey    = errors.New("the built-in local identity key is refused outside local mode: set a secret --pii-key-file")
	ErrKeyTooShort = errors.New("identity key shorter than 16 bytes")
)

// ResolveKey returns the key to hash identities with: the configured one, or LocalKey in local mode when
// none is configured. Outside local mode a missing, built-in or short key is an error, so a production
// program cannot start with a public key.
func ResolveKey(key string, local bool) (string, error) {
	if local {
		if key == "" {
			return LocalKey, nil
		}
		return key, nil
	}
	switch {
	case key == "":
		return "", ErrNoKey
	case key == LocalKey:
		return "", ErrLocalKey
	case len(key) < MinKeyBytes:
		return "", ErrKeyTooShort
	}
	return key, nil
}
