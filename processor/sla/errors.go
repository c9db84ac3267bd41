// Package sla is the SLA engine of citizen appeals: it applies status events (created by the processor,
// commands of curators and agencies, timer events) to each appeal's state, records every change in
// ClickHouse, keeps deadlines as Redis timers and publishes at-risk and breach notices.
//
// One writer per appeal: the consumer of appeals.status (keyed by appeal id) is the only component that
// changes state. The HTTP API and the timers only produce events to that topic.
package sla

import "errors"

// Errors a command can be refused with. Callers branch on them with errors.Is.
var (
	ErrUnauthorized      = errors.New("unauthorized")       // no or unknown token
	ErrForbidden         = errors.New("forbidden")          // role may not do this, or the appeal is another agency's
	ErrNotFound          = errors.New("appeal not found")   // no such appeal (yet)
	ErrInvalidTransition = errors.New("invalid transition") // not allowed from the appeal's current status
	ErrInvalidCommand    = errors.New("invalid command")    // malformed: missing report text, agency, bad URL
)

// Outcomes of events that are not errors but change nothing.
var (
	ErrDuplicate = errors.New("duplicate event") // its event id was applied before (a replay)
	ErrStale     = errors.New("stale timer")     // a timer of an old deadline, or the appeal is resolved
)
