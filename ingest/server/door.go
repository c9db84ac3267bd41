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

// checkHeaders applies the part of a source's auth that needs no body: a token is checked whole, an
// HMAC signature must at least be present and well-formed. It runs before any body byte is read, so an
// unauthenticated client cannot make ingest read (and hold) its body.
func checkHeaders(a ingest.AuthConfig, r *http.Request) *authError {
	switch a.Mode {
	case ingest.AuthToken:
		v := strings.TrimSpace(r.Header.Get(headerOf(a)))
		v = strings.TrimSpace(strings.TrimPrefix(v, "Bearer "))
		if v == "" {
			return &authError{http.StatusUnauthorized, "unauthorized"}
		}
		if subtle.ConstantTimeCompare([]byte(v), []byte(a.Secret)) != 1 {
			return &authError{http.StatusForbidden, "forbidden"}
		}
	case ingest.AuthHMAC:
		v := signature(a, r)
		if v == "" {
			return &authError{http.StatusUnauthorized, "unauthorized"}
		}
		if _, err := hex.DecodeString(v); err != nil || len(v) != 2*sha256.Size {
			return &authError{http.StatusForbidden, "forbidden"}
		}
	}
	return nil
}

// checkBody finishes an HMAC source's auth once its (capped) body has been read.
func checkBody(a ingest.AuthConfig, r *http.Request, body []byte) *authError {
	if a.Mode != ingest.AuthHMAC {
		return nil
	}
	got, err := hex.DecodeString(signature(a, r))
	if err != nil {
		return &authError{http.StatusForbidden, "forbidden"}
	}
	mac := hmac.New(sha256.New, []byte(a.Secret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return &authError{http.StatusForbidden, "forbidden"}
	}
	return nil
}

func headerOf(a ingest.AuthConfig) string {
	switch {
	case a.Header != "":
		return a.Header
	case a.Mode == ingest.AuthHMAC:
		return "X-Signature"
	}
	return "Authorization"
}

func signature(a ingest.AuthConfig, r *http.Request) string {
	return strings.TrimPrefix(strings.TrimSpace(r.Header.Get(headerOf(a))), "sha256=")
}

// Sign returns the X-Signature value for a body (for clients, tests and the simulator).
func Sign(key string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// gate bounds the requests whose bodies are being read or processed at once, over all sources: a full
// gate answers 429 at once instead of queueing, so slow or many clients cannot pile up goroutines,
// connections and buffers. nil means unlimited.
type gate chan struct{}

func newGate(n int) gate {
	if n <= 0 {
		return nil
	}
	return make(gate, n)
}

// enter takes a place if one is free; leave gives it back.
func (g gate) enter() bool {
	if g == nil {
		return true
	}
	select {
	case g <- struct{}{}:
		return true
	default:
		return false
	}
}

func (g gate) leave() {
	if g != nil {
		<-g
	}
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
