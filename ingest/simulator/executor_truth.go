package simulator

import (
	"sort"
	"sync"
	"time"
)

// Outcome is what the executors know of one appeal: its deadline, who has it, whether and when it was
// resolved, and what happened on the way.
type Outcome struct {
	AppealID      string    `json:"appeal_id"`
	Source        string    `json:"source"`
	Category      string    `json:"category"`
	OKTMO         string    `json:"oktmo"`
	Agency        string    `json:"agency"` // now ("" while back with the curators)
	Status        string    `json:"status"`
	Received      time.Time `json:"received_time"`
	Deadline      time.Time `json:"deadline"`
	Resolved      time.Time `json:"resolved_time,omitzero"` // when the resolve command was sent
	Rejections    int       `json:"rejections"`
	Reassignments int       `json:"reassignments"`
	Attachments   int       `json:"attachments"`
}

// OnTime reports whether the appeal was resolved before its deadline.
func (o Outcome) OnTime() bool { return !o.Resolved.IsZero() && o.Resolved.Before(o.Deadline) }

// Breached reports whether its deadline passed, as of now, before it was resolved.
func (o Outcome) Breached(now time.Time) bool {
	if !o.Deadline.Before(now) && !o.Deadline.Equal(now) {
		return false
	}
	return o.Resolved.IsZero() || !o.Resolved.Before(o.Deadline)
}

// ExecutorTruth is the executors' ground truth. Safe for concurrent use.
type ExecutorTruth struct {
	mu sync.Mutex
	by map[string]*Outcome
}

func newExecutorTruth() *ExecutorTruth { return &ExecutorTruth{by: map[string]*Outcome{}} }

func (t *ExecutorTruth) seen(st appealState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.by[st.AppealID] = &Outcome{AppealID: st.AppealID, Source: st.Source, Category: st.Category, OKTMO: st.OKTMO,
		Agency: st.Agency, Status: st.Status, Received: st.Received, Deadline: st.Deadline}
}

func (t *ExecutorTruth) did(a action, at time.Time, st appealState, attachments int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o := t.by[a.appealID]
	o.Agency, o.Status, o.Deadline = st.Agency, st.Status, st.Deadline
	switch a.kind {
	case "reject":
		o.Rejections++
	case "assign":
		o.Reassignments++
	case "resolve":
		o.Resolved, o.Attachments = at.UTC(), attachments
	}
}

// Outcomes lists every appeal the executors met, by id.
func (t *ExecutorTruth) Outcomes() []Outcome {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Outcome, 0, len(t.by))
	for _, o := range t.by {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AppealID < out[j].AppealID })
	return out
}

// Tally is one agency's SLA figures as the truth has them, in the SLA rollups' terms.
type Tally struct {
	Received       int `json:"received"`
	Resolved       int `json:"resolved"`
	ResolvedOnTime int `json:"resolved_on_time"`
	OverdueOpen    int `json:"overdue_open"` // open with the deadline before now
}

// ByAgency tallies appeals by their current agency as of now.
func (t *ExecutorTruth) ByAgency(now time.Time) map[string]Tally {
	out := map[string]Tally{}
	for _, o := range t.Outcomes() {
		x := out[o.Agency]
		x.Received++
		switch {
		case !o.Resolved.IsZero():
			x.Resolved++
			if o.OnTime() {
				x.ResolvedOnTime++
			}
		case o.Deadline.Before(now):
			x.OverdueOpen++
		}
		out[o.Agency] = x
	}
	return out
}

// Breaches lists the appeals whose deadline passed unresolved as of now: each must get one breach notice.
func (t *ExecutorTruth) Breaches(now time.Time) []Outcome {
	var out []Outcome
	for _, o := range t.Outcomes() {
		if o.Breached(now) {
			out = append(out, o)
		}
	}
	return out
}

// ExecutorReport is the executors' truth as `simulate --truth` writes it.
type ExecutorReport struct {
	At       time.Time        `json:"at"`
	ByAgency map[string]Tally `json:"by_agency"`
	Breaches []string         `json:"breaches"` // appeal ids whose deadline passed unresolved
	Outcomes []Outcome        `json:"outcomes"`
}

// Report is the truth as of now.
func (t *ExecutorTruth) Report(now time.Time) ExecutorReport {
	r := ExecutorReport{At: now.UTC(), ByAgency: t.ByAgency(now), Outcomes: t.Outcomes(), Breaches: []string{}}
	for _, o := range t.Breaches(now) {
		r.Breaches = append(r.Breaches, o.AppealID)
	}
	return r
}
