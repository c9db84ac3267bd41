package pii

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
)

func TestHashIdentityIsKeyedHMAC(t *testing.T) {
	const id = "+79101234567"
	a, b := HashIdentity("key-one-0123456789", id), HashIdentity("key-two-0123456789", id)
	if a == "" || a == b {
		t.Fatalf("hashes under two keys: %q, %q", a, b)
	}
	if HashIdentity("key-one-0123456789", " +79101234567 ") != a {
		t.Error("hash does not normalize spaces")
	}
	// The former scheme, sha256(salt‖0‖id), must not be what is stored (a length-extension-prone,
	// unkeyed construction): HMAC differs from it for the same secret.
	old := sha256.Sum256([]byte("key-one-0123456789\x00" + id))
	if a == hex.EncodeToString(old[:12]) {
		t.Error("HashIdentity is still sha256(salt‖id)")
	}
	if HashIdentity("k", "  ") != "" {
		t.Error("empty identity must hash to empty")
	}
}

func TestResolveKey(t *testing.T) {
	for _, tc := range []struct {
		name  string
		key   string
		local bool
		want  string
		err   error
	}{
		{"local default", "", true, LocalKey, nil},
		{"local with a key", "my-key", true, "my-key", nil},
		{"production without key", "", false, "", ErrNoKey},
		{"production with the built-in key", LocalKey, false, "", ErrLocalKey},
		{"production short key", "short", false, "", ErrKeyTooShort},
		{"production key", "0123456789abcdef0123", false, "0123456789abcdef0123", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveKey(tc.key, tc.local)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Errorf("ResolveKey(%q, %t) = %q, %v; want %q, %v", tc.key, tc.local, got, err, tc.want, tc.err)
			}
		})
	}
}
