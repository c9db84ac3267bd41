package sink

import (
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
)

// span is rows lo..hi-1 of a block.
type span struct {
	b      *Block
	lo, hi int
}

// run is rows of one or more blocks, in order: what one INSERT stores, or a partition's share of a round.
type run []span

func (r run) len() int {
	n := 0
	for _, s := range r {
		n += s.hi - s.lo
	}
	return n
}

// each calls f for every row in order.
func (r run) each(f func(b *Block, i int)) {
	for _, s := range r {
		for i := s.lo; i < s.hi; i++ {
			f(s.b, i)
		}
	}
}

// keep returns the rows for which f holds, in order, as spans of consecutive kept rows.
func (r run) keep(f func(b *Block, i int) bool) run {
	var out run
	for _, s := range r {
		start := -1
		for i := s.lo; i <= s.hi; i++ {
			if i < s.hi && f(s.b, i) {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 {
				out = append(out, span{s.b, start, i})
				start = -1
			}
		}
	}
	return out
}

// byMonth cuts r where the month of the event time changes, keeping the order: each INSERT holds one
// month, so it is one part and lands whole or not at all.
func (r run) byMonth() []run {
	var out []run
	var cur run
	m := int32(-1)
	for _, s := range r {
		start := s.lo
		for i := s.lo; i < s.hi; i++ {
			if s.b.month[i] == m {
				continue
			}
			if i > start {
				cur = append(cur, span{s.b, start, i})
			}
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			start, m = i, s.b.month[i]
		}
		if s.hi > start {
			cur = append(cur, span{s.b, start, s.hi})
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// firstMonth is the month of r's first row (r is not empty).
func (r run) firstMonth() int32 { return r[0].b.month[r[0].lo] }

// last is where r's last row came from (r is not empty).
func (r run) last() model.Offset {
	s := r[len(r)-1]
	return model.Offset{Topic: s.b.topic, Partition: s.b.partition, Offset: s.b.offset[s.hi-1]}
}

// appeals gives r's rows as appeals carrying what the rollup checker reads of them (region, event time,
// Kafka origin): for the rare INSERT that failed after storing rows (Config.Settle).
func (r run) appeals() []*model.Appeal {
	out := make([]*model.Appeal, 0, r.len())
	r.each(func(b *Block, i int) {
		out = append(out, &model.Appeal{Region: b.Region(i), EventTime: time.Unix(b.eventTime[i], 0).UTC(),
			Origin: model.Offset{Topic: b.topic, Partition: b.partition, Offset: b.offset[i]}})
	})
	return out
}

// chunks cuts r into runs of at most n rows, in order.
func (r run) chunks(n int) []run {
	var out []run
	var cur run
	left := n
	for _, s := range r {
		for s.lo < s.hi {
			take := min(left, s.hi-s.lo)
			cur = append(cur, span{s.b, s.lo, s.lo + take})
			s.lo += take
			if left -= take; left == 0 {
				out, cur, left = append(out, cur), nil, n
			}
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
