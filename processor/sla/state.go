package sla

import (
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
)

// Statuses in appeal_sla.status.
const (
	StatusAssigned = "assigned" // an agency has it
	StatusInWork   = "in_work"  // the agency took it
	StatusResolved = "resolved"
	StatusReturned = "returned" // with the curators: rejected as "not ours", or created without an agency
)

// seenMax bounds the remembered event ids of one appeal; replays come from the recent past only.
const seenMax = 64

// State is the current SLA state of one appeal.
type State struct {
	AppealID     string    `json:"appeal_id"`
	Region       string    `json:"region"`
	OKTMO        string    `json:"oktmo"`
	Municipality string    `json:"municipality"`
	Category     string    `json:"category"`
	Theme        string    `json:"theme"`
	Source       string    `json:"source"`
	Agency       string    `json:"agency"`
	Status       string    `json:"status"`
	Received     time.Time `json:"received_time"`
	Deadline     time.Time `json:"deadline"`
	Resolved     time.Time `json:"resolved_time,omitzero"`
	Breached     bool      `json:"breached"`
	AtRisk       bool      `json:"at_risk"`
	Updated      time.Time `json:"updated_time"`
	Version      uint64    `json:"version"`
	Seen         []string  `json:"seen,omitempty"`
}

// Open reports whether the appeal still waits for a resolution.
func (s *State) Open() bool { return s.Status != StatusResolved }

// Deadliner is the part of the deadline policy the state machine needs.
type Deadliner interface {
	Deadline(from time.Time, source, category string) time.Time
	AtRisk(deadline time.Time) time.Time
}

func sec(t time.Time) time.Time { return t.UTC().Truncate(time.Second) } // ClickHouse DateTime precision

// allowedRoles says who may send each event type. Agency actions are further limited to the agency the
// appeal is assigned to.
var allowedRoles = map[string][]string{
	model.EventCreated:  {model.RoleSystem},
	model.EventAssign:   {model.RoleCurator, model.RoleSystem},
	model.EventTake:     {model.RoleAgency},
	model.EventResolve:  {model.RoleAgency},
	model.EventReject:   {model.RoleAgency},
	model.EventReopen:   {model.RoleCurator},
	model.EventAtRisk:   {model.RoleSystem},
	model.EventBreached: {model.RoleSystem},
}

// Authorize checks what can be checked without the appeal's state: the event type exists and the role
// may send it. Both the HTTP API (before producing) and the applier (for events from Kafka) call it.
func Authorize(ev model.StatusEvent) error {
	roles, ok := allowedRoles[ev.Type]
	if !ok {
		return fmt.Errorf("%w: unknown event type %q", ErrInvalidCommand, ev.Type)
	}
	if !slices.Contains(roles, ev.ActorRole) {
		return fmt.Errorf("%w: role %q may not %s", ErrForbidden, ev.ActorRole, ev.Type)
	}
	if ev.ActorRole == model.RoleAgency && ev.Agency == "" {
		return fmt.Errorf("%w: an agency command must name its agency", ErrForbidden)
	}
	if ev.EventID == "" || ev.AppealID == "" {
		return fmt.Errorf("%w: event_id and appeal_id are required", ErrInvalidCommand)
	}
	switch ev.Type {
	case model.EventAssign:
		if ev.Agency == "" {
			return fmt.Errorf("%w: assign needs an agency", ErrInvalidCommand)
		}
	case model.EventResolve:
		if ev.Comment == "" {
			return fmt.Errorf("%w: resolve needs the report text (comment)", ErrInvalidCommand)
		}
		for _, a := range ev.Attachments {
			if u, err := url.Parse(a); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("%w: attachment %q is not an http(s) URL", ErrInvalidCommand, a)
			}
		}
	}
	return nil
}

// Apply returns the state after ev. cur is nil for an appeal never seen. It never modifies cur. The
// returned error is one of the package's sentinels (wrapped with details); then the state is unchanged.
func Apply(cur *State, ev model.StatusEvent, pol Deadliner) (State, error) {
	if err := Authorize(ev); err != nil {
		return State{}, err
	}
	if cur != nil && slices.Contains(cur.Seen, ev.EventID) {
		return *cur, ErrDuplicate
	}
	if ev.Type == model.EventCreated {
		if cur != nil {
			return *cur, fmt.Errorf("%w: appeal %s exists already", ErrDuplicate, ev.AppealID)
		}
		return created(ev, pol), nil
	}
	if cur == nil {
		return State{}, fmt.Errorf("%w: %s", ErrNotFound, ev.AppealID)
	}
	next := *cur
	next.Seen = slices.Clone(cur.Seen)
	if ev.ActorRole == model.RoleAgency && ev.Agency != cur.Agency {
		return *cur, fmt.Errorf("%w: appeal %s is not assigned to %s", ErrForbidden, ev.AppealID, ev.Agency)
	}
	bad := func() (State, error) {
		return *cur, fmt.Errorf("%w: %s of a %s appeal", ErrInvalidTransition, ev.Type, cur.Status)
	}
	switch ev.Type {
	case model.EventAssign:
		if !cur.Open() {
			return bad()
		}
		next.Agency, next.Status = ev.Agency, StatusAssigned
	case model.EventTake:
		if cur.Status != StatusAssigned {
			return bad()
		}
		next.Status = StatusInWork
	case model.EventResolve:
		if cur.Status != StatusAssigned && cur.Status != StatusInWork {
			return bad()
		}
		next.Status, next.Resolved = StatusResolved, sec(ev.EventTime)
	case model.EventReject:
		if cur.Status != StatusAssigned && cur.Status != StatusInWork {
			return bad()
		}
		next.Status, next.Agency = StatusReturned, ""
	case model.EventReopen:
		if cur.Open() {
			return bad()
		}
		// A reopened appeal starts a new SLA cycle: new deadline from now, new notices.
		next.Status, next.Resolved = StatusAssigned, time.Time{}
		if ev.Agency != "" {
			next.Agency = ev.Agency
		}
		if next.Agency == "" {
			next.Status = StatusReturned
		}
		next.Deadline = sec(pol.Deadline(ev.EventTime, cur.Source, cur.Category))
		next.Breached, next.AtRisk = false, false
	case model.EventAtRisk:
		// Timer events carry the time they were scheduled for in Deadline.
		if !cur.Open() || cur.Breached || cur.AtRisk || !sec(ev.Deadline).Equal(sec(pol.AtRisk(cur.Deadline))) {
			return *cur, ErrStale
		}
		next.AtRisk = true
	case model.EventBreached:
		if !cur.Open() || cur.Breached || !sec(ev.Deadline).Equal(cur.Deadline) {
			return *cur, ErrStale
		}
		next.Breached = true
	}
	next.bump(ev)
	return next, nil
}

func created(ev model.StatusEvent, pol Deadliner) State {
	received := ev.ReceivedTime
	if received.IsZero() {
		received = ev.EventTime
	}
	s := State{AppealID: ev.AppealID, Region: ev.Region, OKTMO: ev.OKTMO, Municipality: ev.Municipality,
		Category: ev.Category, Theme: ev.Theme, Source: ev.Source, Agency: ev.Agency,
		Status: StatusAssigned, Received: sec(received)}
	if s.Agency == "" {
		s.Status = StatusReturned
	}
	if !ev.Deadline.IsZero() {
		s.Deadline = sec(ev.Deadline) // the source's own deadline (ПОС) wins over the policy
	} else {
		s.Deadline = sec(pol.Deadline(received, ev.Source, ev.Category))
	}
	s.bump(ev)
	return s
}

func (s *State) bump(ev model.StatusEvent) {
	s.Version++
	s.Updated = sec(ev.EventTime)
	s.Seen = append(s.Seen, ev.EventID)
	if len(s.Seen) > seenMax {
		s.Seen = s.Seen[len(s.Seen)-seenMax:]
	}
}
