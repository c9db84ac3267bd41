package sources

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
)

// StatusParser is implemented by sources whose systems also report status changes of appeals they sent
// before («Наш дом», ПОС). A status change is not an appeal: ingest turns it into a model.StatusEvent and
// produces it to appeals.status keyed by the appeal id, where the SLA engine reads curator and agency
// events too. One shared format on that topic keeps the SLA engine free of per-source parsing.
type StatusParser interface {
	// IsStatus says whether a raw message is a status change rather than a new appeal. It only looks.
	IsStatus(payload []byte) bool
	ParseStatus(payload []byte, meta Meta) (*model.StatusEvent, error)
}

// statusTypes maps the statuses the portals send (their codes and their Russian labels, lower-cased) to
// status event types.
var statusTypes = map[string]string{
	"assigned": model.EventAssign, "redirected": model.EventAssign, "назначено": model.EventAssign,
	"передано исполнителю": model.EventAssign, "перенаправлено": model.EventAssign,
	"in_work": model.EventTake, "in_progress": model.EventTake, "в работе": model.EventTake,
	"resolved": model.EventResolve, "answered": model.EventResolve, "решено": model.EventResolve,
	"ответ дан": model.EventResolve, "ответ подготовлен": model.EventResolve,
	"rejected": model.EventReject, "отклонено": model.EventReject,
	"reopened": model.EventReopen, "возобновлено": model.EventReopen,
}

// StatusEventType returns the event type of a portal status, or "" if it is not one teplokarta tracks.
func StatusEventType(status string) string {
	return statusTypes[strings.ToLower(strings.TrimSpace(status))]
}

func roleOf(eventType string) string {
	switch eventType {
	case model.EventAssign, model.EventReopen:
		return model.RoleCurator
	}
	return model.RoleAgency
}

// statusChange is what both portals' status messages carry, after their field names are mapped.
type statusChange struct {
	id, status, at, agency, comment, deadline string
	attachments                               []string
}

func (c common) statusEvent(source string, body []byte, s statusChange, meta Meta) (*model.StatusEvent, error) {
	if s.id == "" {
		return nil, invalid(source, "missing_field", "no appeal id")
	}
	if s.status == "" {
		return nil, invalid(source, "missing_field", "status")
	}
	typ := StatusEventType(s.status)
	if typ == "" {
		return nil, invalid(source, "unsupported_status", "status %q", s.status)
	}
	if s.at == "" {
		return nil, invalid(source, "missing_field", "status change time")
	}
	t, err := parseTime(s.at)
	if err != nil {
		return nil, invalid(source, "bad_time", "%v", err)
	}
	if err := c.checkTime(source, t, meta); err != nil {
		return nil, err
	}
	ev := &model.StatusEvent{
		// Deterministic, so a portal's retry of the same change is recognised by consumers.
		EventID:  fmt.Sprintf("%s:%s:%s:%d", source, s.id, typ, t.Unix()),
		Type:     typ,
		AppealID: model.AppealID(source, s.id),
		Region:   model.DefaultRegion, Source: source,
		Agency: strings.TrimSpace(s.agency), Comment: strings.TrimSpace(s.comment),
		ActorRole: roleOf(typ), Attachments: s.attachments,
		EventTime: t.UTC(), ReceivedTime: meta.ReceivedAt,
	}
	if s.deadline != "" {
		d, err := parseTime(s.deadline)
		if err != nil {
			return nil, invalid(source, "bad_time", "deadline: %v", err)
		}
		ev.Deadline = d.UTC()
		if err := c.checkDeadline(source, ev.Deadline); err != nil {
			return nil, err
		}
	}
	return ev, nil
}

func (c common) checkTime(source string, t time.Time, meta Meta) error {
	if t.Before(c.lim.MinTime) {
		return invalid(source, "bad_time", "time %s before %s", t.Format(time.RFC3339), c.lim.MinTime.Format("2006-01-02"))
	}
	now := meta.ReceivedAt
	if now.IsZero() {
		now = time.Now()
	}
	if t.After(now.Add(c.lim.MaxSkew)) {
		return invalid(source, "bad_time", "time %s is in the future (received %s)", t.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	return nil
}

// NashDomStatus is the portal's status-change webhook: {"event":"status_changed","id":…,"status":…,
// "changed_at":…, "executor"?, "comment"?, "photos"?}.
type NashDomStatus struct {
	Event     string      `json:"event"`
	ID        json.Number `json:"id"`
	Status    string      `json:"status"`
	ChangedAt string      `json:"changed_at"`
	Executor  string      `json:"executor,omitempty"`
	Comment   string      `json:"comment,omitempty"`
	Photos    []string    `json:"photos,omitempty"`
}

// NashDomStatusEvent is the value of NashDomStatus.Event.
const NashDomStatusEvent = "status_changed"

// IsStatus implements StatusParser.
func (*NashDom) IsStatus(payload []byte) bool {
	return bytes.Contains(payload, []byte(`"status_changed"`)) && eventField(payload, "event") == NashDomStatusEvent
}

// ParseStatus implements StatusParser.
func (p *NashDom) ParseStatus(payload []byte, meta Meta) (*model.StatusEvent, error) {
	body, err := p.front(model.SourceNashDom, payload, meta.ContentType)
	if err != nil {
		return nil, err
	}
	var m NashDomStatus
	if err := decodeJSON(body, &m); err != nil {
		return nil, invalid(model.SourceNashDom, "bad_json", "%v", err)
	}
	return p.statusEvent(model.SourceNashDom, body, statusChange{id: m.ID.String(), status: m.Status, at: m.ChangedAt,
		agency: m.Executor, comment: m.Comment, attachments: m.Photos}, meta)
}

// POSStatus is ПОС's status update: {"type":"status_changed","id":…,"status":…,"updatedAt":…,
// "responseDeadline"?, "executorName"?, "comment"?, "attachments"?}.
type POSStatus struct {
	Type             string      `json:"type"`
	ID               json.Number `json:"id"`
	Status           string      `json:"status"`
	UpdatedAt        string      `json:"updatedAt"`
	ResponseDeadline string      `json:"responseDeadline,omitempty"`
	ExecutorName     string      `json:"executorName,omitempty"`
	Comment          string      `json:"comment,omitempty"`
	Attachments      []string    `json:"attachments,omitempty"`
}

// POSStatusType is the value of POSStatus.Type.
const POSStatusType = "status_changed"

// IsStatus implements StatusParser.
func (*POS) IsStatus(payload []byte) bool {
	return bytes.Contains(payload, []byte(`"status_changed"`)) && eventField(payload, "type") == POSStatusType
}

// ParseStatus implements StatusParser.
func (p *POS) ParseStatus(payload []byte, meta Meta) (*model.StatusEvent, error) {
	body, err := p.front(model.SourcePOS, payload, meta.ContentType)
	if err != nil {
		return nil, err
	}
	var m POSStatus
	if err := decodeJSON(body, &m); err != nil {
		return nil, invalid(model.SourcePOS, "bad_json", "%v", err)
	}
	return p.statusEvent(model.SourcePOS, body, statusChange{id: m.ID.String(), status: m.Status, at: m.UpdatedAt,
		agency: m.ExecutorName, comment: m.Comment, deadline: m.ResponseDeadline, attachments: m.Attachments}, meta)
}

// eventField reads one top-level string field; "" when the body is not a JSON object or lacks it.
func eventField(payload []byte, name string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(m[name], &s) != nil {
		return ""
	}
	return s
}
