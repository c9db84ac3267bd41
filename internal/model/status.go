package model

import "time"

// Status event types on the appeals.status topic. "created" comes from the processor once an incident is
// stored; the others come from curators and executors (HTTP API or Kafka) and from the SLA timers.
const (
	EventCreated  = "created"
	EventAssign   = "assign"   // curator assigns (or reassigns) an agency
	EventTake     = "take"     // agency takes the appeal in work
	EventResolve  = "resolve"  // agency reports the resolution (text, optional photo/video URLs)
	EventReject   = "reject"   // agency: not ours; goes back to curators
	EventReopen   = "reopen"   // curator reopens a resolved appeal
	EventAtRisk   = "at_risk"  // SLA timer: deadline is near
	EventBreached = "breached" // SLA timer: deadline passed unresolved
)

// Actor roles.
const (
	RoleSystem  = "system"
	RoleCurator = "curator"
	RoleAgency  = "agency"
)

// StatusEvent is one message on appeals.status / appeals.sla, JSON-encoded, keyed by appeal id.
// EventID makes a replayed event harmless (consumers ignore ids they have applied).
type StatusEvent struct {
	EventID      string    `json:"event_id"`
	Type         string    `json:"type"`
	AppealID     string    `json:"appeal_id"`
	Region       string    `json:"region,omitempty"`
	OKTMO        string    `json:"oktmo,omitempty"`
	Municipality string    `json:"municipality,omitempty"`
	Category     string    `json:"category,omitempty"`
	Theme        string    `json:"theme,omitempty"`
	Source       string    `json:"source,omitempty"`
	Agency       string    `json:"agency,omitempty"`
	Actor        string    `json:"actor,omitempty"`
	ActorRole    string    `json:"actor_role,omitempty"`
	Comment      string    `json:"comment,omitempty"`
	Attachments  []string  `json:"attachments,omitempty"` // photo/video report links
	Deadline     time.Time `json:"deadline,omitzero"`     // a source-given deadline (ПОС) or the SLA's
	ReceivedTime time.Time `json:"received_time,omitzero"`
	EventTime    time.Time `json:"event_time"`
}
