package chaos

import (
	"strings"
	"sync"
	"testing"
)

func TestTailBuffer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		max    int
		writes []string
		want   string // the buffer's whole content
	}{
		{"below the limit keeps everything", 10, []string{"ab", "cd"}, "abcd"},
		{"at the limit keeps everything", 4, []string{"ab", "cd"}, "abcd"},
		{"over the limit keeps the newer half", 8, []string{"abcdef", "ghi"}, "fghi"},
		{"a write bigger than the limit keeps its own end", 8, []string{"ab", "0123456789"}, "6789"},
		{"many small writes", 6, []string{"a", "b", "c", "d", "e", "f", "g", "h"}, "efgh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &TailBuffer{Max: tc.max}
			total := 0
			for _, w := range tc.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
				total += len(w)
			}
			all := strings.Join(tc.writes, "")
			if got := b.String(); got != tc.want || !strings.HasSuffix(all, got) || len(got) > tc.max {
				t.Errorf("holds %q, want %q (the end of %q, at most %d bytes)", got, tc.want, all, tc.max)
			}
			if b.Written() != int64(total) {
				t.Errorf("Written() = %d, want %d", b.Written(), total)
			}
		})
	}
}

// A child's output arrives from os/exec's copying goroutine while the run reads it; memory stays bounded.
func TestTailBufferConcurrent(t *testing.T) {
	b := &TailBuffer{Max: 4 << 10}
	line := []byte(strings.Repeat("x", 99) + "\n")
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10_000 {
				_, _ = b.Write(line)
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if got := len(b.String()); got > 4<<10 || got < 2<<10 {
		t.Errorf("holds %d bytes after 4 MB written, want between 2 and 4 KiB", got)
	}
	if b.Written() != 4*10_000*100 {
		t.Errorf("Written() = %d", b.Written())
	}
}
