package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
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

// TestIdentityHasher checks the reused HMACs against one made afresh per identity, from several
// goroutines at once (run with -race): a reset that left state behind would change every later hash.
func TestIdentityHasher(t *testing.T) {
	const key = "key-one-0123456789"
	h := NewIdentityHasher(key)
	ids := []string{"+79101234567", "vk:12345", "Иванов Иван", "", " x ", "+79101234567"}
	want := func(id string) string {
		id = strings.TrimSpace(strings.ToLower(id))
		if id == "" {
			return ""
		}
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte(id))
		return hex.EncodeToString(mac.Sum(nil)[:12])
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				id := ids[(i+g)%len(ids)]
				if got := h.Hash(id); got != want(id) {
					t.Errorf("Hash(%q) = %q, want %q", id, got, want(id))
					return
				}
			}
		}()
	}
	wg.Wait()
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
