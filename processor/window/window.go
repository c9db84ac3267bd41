// Package window keeps event-time tumbling windows for the live view: a watermark per partition (the
// highest event time seen minus the allowed lateness) closes windows; an event whose window already closed
// is marked late — it is still counted (a correction of that window), never dropped. Exact totals live in
// ClickHouse (materialized views over appeals); this stage decides lateness and feeds live updates.
package window

import (
	"errors"
	"sort"
	"strconv"
	"strings"
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

// Windower tracks, per owned partition, its watermark and the open window counts of the rows it stored.
// State follows the partitions: a partition's watermark moves only after its batch is stored (Commit), and
// a revoked partition's state is dropped (Forget), so a partition that moved to another instance neither
// holds this instance's windows open nor keeps growing its map. Safe for concurrent use by the partition
// goroutines.
type Windower struct {
	cfg Config

	mu    sync.Mutex
	parts map[string]*partState // "topic/partition" → state
}

type partState struct {
	watermark time.Time
	open      map[Key]*Count // this partition's contribution to each open window
}

// New builds a windower.
func New(cfg Config) (*Windower, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Windower{cfg: cfg, parts: map[string]*partState{}}, nil
}

func partKey(topic string, partition int) string { return topic + "/" + strconv.Itoa(partition) }

func (w *Windower) part(topic string, partition int) *partState {
	k := partKey(topic, partition)
	p := w.parts[k]
	if p == nil {
		p = &partState{open: map[Key]*Count{}}
		w.parts[k] = p
	}
	return p
}

// Restore takes a partition on: its watermark starts from the sink's progress (the latest event time
// already stored), so a restarted processor or the partition's next owner judges lateness as the previous
// owner would have.
func (w *Windower) Restore(topic string, partition int, maxEventTime time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.part(topic, partition)
	if maxEventTime.IsZero() {
		return
	}
	if wm := maxEventTime.Add(-w.cfg.AllowedLateness); wm.After(p.watermark) {
		p.watermark = wm
	}
}

// Watermark returns a partition's watermark (zero before any event or when not owned).
func (w *Windower) Watermark(topic string, partition int) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if p := w.parts[partKey(topic, partition)]; p != nil {
		return p.watermark
	}
	return time.Time{}
}

// Observe marks late appeals of one partition's batch (in Kafka order) and returns the watermark the
// partition will have once the batch is stored. It changes no state: a batch that fails to be stored is
// read again, and must be judged against the same watermark.
func (w *Windower) Observe(topic string, partition int, batch []*model.Appeal) time.Time {
	return w.ObserveAfter(topic, partition, time.Time{}, batch)
}

// ObserveAfter is Observe for a batch that follows batches not stored yet, whose Observe returned
// pending: it is judged as if they were, so lateness does not depend on whether the partition waited for
// their INSERT. Should one of them fail, the partition's batches after it are read again, from the
// watermark of what was stored.
func (w *Windower) ObserveAfter(topic string, partition int, pending time.Time, batch []*model.Appeal) time.Time {
	w.mu.Lock()
	wm := pending
	if p := w.parts[partKey(topic, partition)]; p != nil && p.watermark.After(wm) {
		wm = p.watermark
	}
	w.mu.Unlock()
	smallest := w.cfg.Sizes[0]
	for _, a := range batch {
		end := windowStart(a, smallest).Add(smallest)
		a.IsLate = !wm.IsZero() && !end.After(wm)
		if cand := a.EventTime.Add(-w.cfg.AllowedLateness); cand.After(wm) {
			wm = cand
		}
	}
	return wm
}

// Tally is a batch's contribution to the live windows: counted from its appeals when the batch is handed
// to the sink (which then holds its rows as columns, not appeals), added to the windows by Commit once it
// is stored.
type Tally map[Key]*Count

// Tally counts batch's appeals into their windows of every size. It changes no state.
func (w *Windower) Tally(batch []*model.Appeal) Tally {
	t := Tally{}
	for _, a := range batch {
		for _, size := range w.cfg.Sizes {
			key := Key{Size: size, Start: windowStart(a, size), Region: a.Region, OKTMO: a.OKTMO, Cat: a.Category, Source: a.Source}
			c := t[key]
			if c == nil {
				// The key outlives the batch: its own copies, not parts of a decoded record (an enriched
				// record's fields share one string, model.ReadEnriched), which would keep the record alive.
				key.Region, key.OKTMO = strings.Clone(key.Region), strings.Clone(key.OKTMO)
				key.Cat, key.Source = strings.Clone(key.Cat), strings.Clone(key.Source)
				c = &Count{Key: key}
				t[key] = c
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
	return t
}

// Commit records a stored batch of one partition: its watermark moves to what Observe returned, and its
// tally (nil when nobody subscribes to the live windows) is added to the partition's open windows.
func (w *Windower) Commit(topic string, partition int, watermark time.Time, tally Tally) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.part(topic, partition)
	if watermark.After(p.watermark) {
		p.watermark = watermark
	}
	for key, t := range tally {
		c := p.open[key]
		if c == nil {
			c = &Count{Key: key}
			p.open[key] = c
		}
		c.Voices += t.Voices
		c.Incidents += t.Incidents
		c.Late += t.Late
	}
}

// windowStart is the start of a's window of size, counted from local midnights of its region's zone, as
// the day rollups count them (for Ryazan a day window starts at 21:00 UTC; minute and hour windows are the
// UTC ones for whole-hour offsets).
func windowStart(a *model.Appeal, size time.Duration) time.Time {
	return model.Floor(a.EventTime, size, model.RegionLocation(a.Region))
}

// Forget drops a revoked partition's watermark and returns its open windows' counts (not closed: the
// partition's next owner counts the rows after them), so the caller can publish them before they go.
func (w *Windower) Forget(topic string, partition int) []Count {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := partKey(topic, partition)
	p := w.parts[k]
	delete(w.parts, k)
	if p == nil {
		return nil
	}
	out := make([]Count, 0, len(p.open))
	for _, c := range p.open {
		out = append(out, *c)
	}
	sortCounts(out)
	return out
}

// Flush returns the windows that the slowest owned partition's watermark has closed, summed over the
// partitions that contributed, and forgets them; with force (shutdown) it returns every window.
// Partitions that never saw data do not hold windows open.
func (w *Windower) Flush(force bool) []Count {
	w.mu.Lock()
	defer w.mu.Unlock()
	var low time.Time
	for _, p := range w.parts {
		if !p.watermark.IsZero() && (low.IsZero() || p.watermark.Before(low)) {
			low = p.watermark
		}
	}
	merged := map[Key]*Count{}
	for _, p := range w.parts {
		for k, c := range p.open {
			if !force && k.Start.Add(k.Size).After(low) {
				continue
			}
			m := merged[k]
			if m == nil {
				m = &Count{Key: k, Closed: true}
				merged[k] = m
			}
			m.Incidents += c.Incidents
			m.Voices += c.Voices
			m.Late += c.Late
			delete(p.open, k)
		}
	}
	out := make([]Count, 0, len(merged))
	for _, c := range merged {
		out = append(out, *c)
	}
	sortCounts(out)
	return out
}

// OpenWindows is how many window counters the owned partitions hold (a gauge for memory).
func (w *Windower) OpenWindows() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, p := range w.parts {
		n += len(p.open)
	}
	return n
}

func sortCounts(out []Count) {
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		if out[i].Size != out[j].Size {
			return out[i].Size < out[j].Size
		}
		if out[i].OKTMO != out[j].OKTMO {
			return out[i].OKTMO < out[j].OKTMO
		}
		if out[i].Cat != out[j].Cat {
			return out[i].Cat < out[j].Cat
		}
		return out[i].Source < out[j].Source
	})
}
