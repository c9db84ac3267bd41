package simulator

import (
	"sort"
	"time"
)

// WindowKey is one cell of the ground truth: a one-minute event-time window of one municipality and source.
type WindowKey struct {
	Start  time.Time `json:"window_start"`
	OKTMO  string    `json:"oktmo"`
	Source string    `json:"source"`
}

// Cell counts appeals in a cell. Appeals = every unique appeal (what ClickHouse stores as rows);
// Incidents = new problems; NearVoices = burst neighbours, which count as incidents or voices depending
// on near-duplicate detection.
type Cell struct {
	WindowKey
	Appeals    int `json:"appeals"`
	Incidents  int `json:"incidents"`
	NearVoices int `json:"near_voices"`
}

// Truth is the simulator's own account of what it sent.
type Truth struct {
	Messages   int `json:"messages"`    // everything sent, retries included
	Retries    int `json:"retries"`     // byte-for-byte re-sends: must not be counted
	Appeals    int `json:"appeals"`     // unique appeals
	Incidents  int `json:"incidents"`   // new problems
	Voices     int `json:"voices"`      // the same text through another channel: exact voices
	NearVoices int `json:"near_voices"` // burst neighbours in their own words
	Late       int `json:"late"`        // written ≥ 5 minutes before they arrived
	// Copies pairs each same-text copy with its original (appeal ids): the two must share one incident.
	Copies [][2]string `json:"-"`
	cells  map[WindowKey]*Cell
}

// NewTruth starts an empty account.
func NewTruth() *Truth { return &Truth{cells: map[WindowKey]*Cell{}} }

// Add records one sent message.
func (t *Truth) Add(m Message) {
	t.Messages++
	if m.Kind == KindRetry {
		t.Retries++
		return
	}
	t.Appeals++
	if m.Arrival.Sub(m.EventTime) >= 5*time.Minute {
		t.Late++
	}
	k := WindowKey{Start: m.EventTime.Truncate(time.Minute).UTC(), OKTMO: m.OKTMO, Source: m.Source}
	c := t.cells[k]
	if c == nil {
		c = &Cell{WindowKey: k}
		t.cells[k] = c
	}
	c.Appeals++
	switch m.Kind {
	case KindIncident:
		t.Incidents++
		c.Incidents++
	case KindVoice:
		t.Voices++
		t.Copies = append(t.Copies, [2]string{m.CopyOf, m.AppealID()})
	case KindNearVoice:
		t.NearVoices++
		c.NearVoices++
	}
}

// Cells returns the per-window cells, sorted.
func (t *Truth) Cells() []Cell {
	out := make([]Cell, 0, len(t.cells))
	for _, c := range t.cells {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		if a.OKTMO != b.OKTMO {
			return a.OKTMO < b.OKTMO
		}
		return a.Source < b.Source
	})
	return out
}

// ByMunicipality sums unique appeals per OKTMO.
func (t *Truth) ByMunicipality() map[string]int {
	out := map[string]int{}
	for k, c := range t.cells {
		out[k.OKTMO] += c.Appeals
	}
	return out
}

// Report is the JSON form written by `simulate --truth`.
type Report struct {
	Totals *Truth `json:"totals"`
	Cells  []Cell `json:"cells"`
}

// Report builds the JSON form.
func (t *Truth) Report() Report { return Report{Totals: t, Cells: t.Cells()} }
