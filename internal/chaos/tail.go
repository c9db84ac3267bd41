package chaos

import "sync"

// TailBuffer keeps the end of what was written to it, for the tails a failed run prints: everything up to
// Max bytes, then the newest Max/2 whenever it would hold more. A child's stderr or an in-process engine's
// log may be written to for as long as the suite runs; a plain buffer would hold all of it. Safe for
// concurrent use: os/exec copies a child's output from its own goroutine while the run reads it.
type TailBuffer struct {
	Max int // default 1 MiB

	mu      sync.Mutex
	b       []byte
	written int64
}

func (t *TailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	limit := t.Max
	if limit <= 0 {
		limit = 1 << 20
	}
	n := len(p)
	t.written += int64(n)
	if n > limit {
		p = p[len(p)-limit/2:]
		t.b = t.b[:0]
	}
	t.b = append(t.b, p...)
	if len(t.b) > limit { // keep the newer half; the buffer's capacity stays about limit
		t.b = append(t.b[:0], t.b[len(t.b)-limit/2:]...)
	}
	return n, nil
}

// String is what the buffer holds: the end of everything written.
func (t *TailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// Written is how many bytes were written in all.
func (t *TailBuffer) Written() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.written
}
