// Package window keeps event-time tumbling windows for the live view: a watermark per partition (the
// highest event time seen minus the allowed lateness) closes windows; an event whose window already closed
// is marked late — it is still counted (a correction of that window), never dropped. Exact totals live in
// ClickHouse (materialized views over appeals); this stage decides lateness and feeds live updates.
package window

import (
	"errors"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
)

// Config of the windower.
type Config struct {
	Sizes           []time.Duration // tumbling window sizes; default 1m, 1h, 24h
	AllowedLateness time.Duration   // default 2m
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{Sizes: []time.Duration{time.Minute, time.Hour, 24 * time.Hour}, AllowedLateness: 2 * time.Minute}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if len(c.Sizes) == 0 {
		return errors.New("window: no sizes")
	}
	for _, s := range c.Sizes {
		if s < time.Second || (24*time.Hour)%s != 0 && s%(24*time.Hour) != 0 {
			return errors.New("window: sizes must be ≥ 1s and divide a day (or be whole days)")
		}
	}
	if c.AllowedLateness < 0 {
		return errors.New("window: negative lateness")
	}
	return nil
}

// Key identifies one window's counter.
type Key struct {
	Size   time.Duration
	Start  time.Time
	Region string
	OKTMO  string
	Cat    string
	Source string
}

// Count is the state of one window.
type Count struct {
	Key
	Incidents, Voices, Late uint64
	Closed                  bool // the watermark passed its end: later events are corrections
}

// Windower tracks watermarks per partition and open window counts. Safe for concurrent use by the
// partition goroutines.
type Windower struct {
	cfg Config

	mu         sync.Mutex
	watermarks map[string]time.Time // "topic/partition" → watermark
	open       map[Key]*Count
}

// New builds a windower.
func New(cfg Config) (*Windower, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Windower{cfg: cfg, watermarks: map[string]time.Time{}, open: map[Key]*Count{}}, nil
}

func partKey(topic string, partition int) string { return topic + "/" + strconv.Itoa(partition) }

// Restore sets a partition's watermark from the sink's progress (the latest event time already stored),
// so a restarted processor judges lateness as the crashed one would have.
func (w *Windower) Restore(topic string, partition int, maxEventTime time.Time) {
	if maxEventTime.IsZero() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	wm := maxEventTime.Add(-w.cfg.AllowedLateness)
	if wm.After(w.watermarks[partKey(topic, partition)]) {
		w.watermarks[partKey(topic, partition)] = wm
	}
}

// Watermark returns a partition's watermark (zero before any event).
func (w *Windower) Watermark(topic string, partition int) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.watermarks[partKey(topic, partition)]
}

// Observe marks late appeals of one partition's batch (in Kafka order) and advances its watermark. It
// does not count: counting happens in Commit, after the sink confirmed the batch.
func (w *Windower) Observe(topic string, partition int, batch []*model.Appeal) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := partKey(topic, partition)
	wm := w.watermarks[k]
	smallest := w.cfg.Sizes[0]
	for _, a := range batch {
		end := a.EventTime.Truncate(smallest).Add(smallest)
		a.IsLate = !wm.IsZero() && !end.After(wm)
		if cand := a.EventTime.Add(-w.cfg.AllowedLateness); cand.After(wm) {
			wm = cand
		}
	}
	w.watermarks[k] = wm
}

// Commit counts a confirmed batch into the live windows.
func (w *Windower) Commit(batch []*model.Appeal) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range batch {
		for _, size := range w.cfg.Sizes {
			key := Key{Size: size, Start: a.EventTime.Truncate(size).UTC(), Region: a.Region, OKTMO: a.OKTMO, Cat: a.Category, Source: a.Source}
			c := w.open[key]
			if c == nil {
				c = &Count{Key: key}
				w.open[key] = c
			}
			c.Voices++
			if a.IsIncident {
				c.Incidents++
			}
			if a.IsLate {
				c.Late++
			}
		}
	}
}

// Flush returns the windows that the slowest partition's watermark has closed and forgets them; with
// force (shutdown) it returns every window. Partitions that never saw data do not hold windows open.
func (w *Windower) Flush(force bool) []Count {
	w.mu.Lock()
	defer w.mu.Unlock()
	var low time.Time
	for _, wm := range w.watermarks {
		if low.IsZero() || wm.Before(low) {
			low = wm
		}
	}
	var out []Count
	for k, c := range w.open {
		if force || !k.Start.Add(k.Size).After(low) {
			c.Closed = true
			out = append(out, *c)
			delete(w.open, k)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].OKTMO < out[j].OKTMO
	})
	return out
}
