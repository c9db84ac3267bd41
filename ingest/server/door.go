package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/teplokarta/teplokarta/ingest"
)

// authError is a refused credential: 401 when none was presented, 403 when it was wrong.
type authError struct {
	status int
	reason string
}

// checkAuth applies a source's auth to a request whose body has been read.
func checkAuth(a ingest.AuthConfig, r *http.Request, body []byte) *authError {
	switch a.Mode {
	case ingest.AuthToken:
		h := a.Header
		if h == "" {
			h = "Authorization"
		}
		v := strings.TrimSpace(r.Header.Get(h))
		v = strings.TrimSpace(strings.TrimPrefix(v, "Bearer "))
		if v == "" {
			return &authError{http.StatusUnauthorized, "unauthorized"}
		}
		if subtle.ConstantTimeCompare([]byte(v), []byte(a.Secret)) != 1 {
			return &authError{http.StatusForbidden, "forbidden"}
		}
	case ingest.AuthHMAC:
		h := a.Header
		if h == "" {
			h = "X-Signature"
		}
		v := strings.TrimPrefix(strings.TrimSpace(r.Header.Get(h)), "sha256=")
		if v == "" {
			return &authError{http.StatusUnauthorized, "unauthorized"}
		}
		got, err := hex.DecodeString(v)
		if err != nil {
			return &authError{http.StatusForbidden, "forbidden"}
		}
		mac := hmac.New(sha256.New, []byte(a.Secret))
		mac.Write(body)
		if !hmac.Equal(got, mac.Sum(nil)) {
			return &authError{http.StatusForbidden, "forbidden"}
		}
	}
	return nil
}

// Sign returns the X-Signature value for a body (for clients, tests and the simulator).
func Sign(key string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// bucket is a token bucket of requests. nil means unlimited.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newBucket(c ingest.RateLimitConfig, now func() time.Time) *bucket {
	if c.PerSecond <= 0 {
		return nil
	}
	return &bucket{rate: c.PerSecond, burst: float64(c.Burst), tokens: float64(c.Burst), last: now(), now: now}
}

// take takes one token; when none is left it says how long until one is.
func (b *bucket) take() (bool, time.Duration) {
	if b == nil {
		return true, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}
