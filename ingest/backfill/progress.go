package backfill

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// bar draws a one-line progress bar by bytes read, redrawn at most 10 times a second.
type bar struct {
	w      io.Writer
	source string
	size   int64
	start  time.Time
	last   time.Time
}

func newBar(w io.Writer, source string, size int64) *bar {
	return &bar{w: w, source: source, size: size, start: time.Now()}
}

func (b *bar) update(read int64, s Summary) {
	if b.w == nil || time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	b.draw(read, s)
}

func (b *bar) draw(read int64, s Summary) {
	const width = 30
	frac := 0.0
	if b.size > 0 {
		frac = min(1, float64(read)/float64(b.size))
	}
	filled := int(frac * width)
	rate := float64(s.Read) / max(time.Since(b.start).Seconds(), 1e-3)
	fmt.Fprintf(b.w, "\r%s [%s%s] %3.0f%%  read %d  sent %d  rejected %d  %.0f/s ",
		b.source, strings.Repeat("#", filled), strings.Repeat(".", width-filled), frac*100, s.Read, s.Sent(), s.Rejected, rate)
}

func (b *bar) done(read int64, s Summary) {
	if b.w == nil {
		return
	}
	if b.size <= 0 {
		b.size = read
	}
	b.draw(read, s)
	fmt.Fprintln(b.w)
}
