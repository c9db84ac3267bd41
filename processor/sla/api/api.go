// Package api is the HTTP JSON API of executors (agencies) and curators. A request is authenticated by
// its bearer token, turned into a status event whose actor, role and agency come from the token (never
// from the body), produced to appeals.status, and answered once the applier has applied or refused it.
//
//	POST /v1/appeals/{id}/assign   {"agency": "...", "comment": "..."}           curator
//	POST /v1/appeals/{id}/take     {"comment": "..."}                            agency
//	POST /v1/appeals/{id}/resolve  {"comment": "report", "attachments": [urls]}  agency
//	POST /v1/appeals/{id}/reject   {"comment": "why not ours"}                   agency
//	POST /v1/appeals/{id}/reopen   {"agency": "optional", "comment": "..."}      curator
//	GET  /v1/appeals/{id}                                                         curator, assigned agency
//	GET  /v1/appeals[?since=&limit=&agency=]   open appeals: an agency its own, a curator all  both
//
// An optional "event_id" in the body makes a retried request idempotent.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/sla"
	"github.com/teplokarta/teplokarta/processor/sla/auth"
)

// Service is what the API needs of the engine.
type Service interface {
	Submit(ctx context.Context, ev model.StatusEvent, wait time.Duration) (sla.Reply, error)
	Get(ctx context.Context, appealID string) (*sla.State, error)
}

// Authenticator resolves the Authorization header.
type Authenticator interface {
	Authenticate(header string) (auth.Principal, error)
}

// Server serves the API.
type Server struct {
	svc  Service
	auth Authenticator
	log  *slog.Logger
	wait time.Duration
	// metrics counts answers (nil: not counted).
	metrics *Metrics
}

// New returns a server; wait bounds how long a request waits for the applier (then 202 Accepted).
func New(svc Service, a Authenticator, log *slog.Logger, wait time.Duration) *Server {
	return &Server{svc: svc, auth: a, log: log, wait: wait}
}

var actions = map[string]string{"assign": model.EventAssign, "take": model.EventTake, "resolve": model.EventResolve,
	"reject": model.EventReject, "reopen": model.EventReopen}

// Register adds the API routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/appeals/{id}/{action}", s.counted("command", s.command))
	mux.HandleFunc("GET /v1/appeals/{id}", s.counted("get", s.get))
	mux.HandleFunc("GET /v1/appeals", s.counted("list", s.list))
}

type body struct {
	EventID     string   `json:"event_id"`
	Agency      string   `json:"agency"`
	Comment     string   `json:"comment"`
	Attachments []string `json:"attachments"`
}

type errorBody struct {
	Error   string `json:"error"`
	Code    string `json:"code"`
	EventID string `json:"event_id,omitempty"`
}

func (s *Server) principal(w http.ResponseWriter, r *http.Request) (auth.Principal, bool) {
	p, err := s.auth.Authenticate(r.Header.Get("Authorization"))
	if err != nil {
		s.log.Warn("sla api: unauthenticated request refused", "remote", r.RemoteAddr, "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusUnauthorized, errorBody{Error: err.Error(), Code: "unauthorized"})
		return p, false
	}
	return p, true
}

func (s *Server) command(w http.ResponseWriter, r *http.Request) {
	p, ok := s.principal(w, r)
	if !ok {
		return
	}
	if !s.validID(w, r.PathValue("id")) {
		return
	}
	typ, ok := actions[r.PathValue("action")]
	if !ok {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "unknown action " + r.PathValue("action"), Code: "not_found"})
		return
	}
	var b body
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&b); err != nil && !errors.Is(err, io.EOF) {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "body: " + err.Error(), Code: "invalid_command"})
		return
	}
	ev := model.StatusEvent{Type: typ, AppealID: r.PathValue("id"), Actor: p.Name, ActorRole: p.Role,
		Agency: b.Agency, Comment: b.Comment, Attachments: b.Attachments}
	if b.EventID != "" {
		ev.EventID = "api:" + p.Name + ":" + b.EventID // scoped: one principal cannot collide with another
	}
	if p.Role == model.RoleAgency {
		if b.Agency != "" && b.Agency != p.Agency {
			s.log.Warn("sla api: agency tried to act for another", "actor", p.Name, "agency", b.Agency, "appeal_id", ev.AppealID)
			writeJSON(w, http.StatusForbidden, errorBody{Error: "forbidden: you act for " + p.Agency + " only", Code: "forbidden"})
			return
		}
		ev.Agency = p.Agency
	}
	rep, err := s.svc.Submit(r.Context(), ev, s.wait)
	s.respond(w, rep, err)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	p, ok := s.principal(w, r)
	if !ok {
		return
	}
	if !s.validID(w, r.PathValue("id")) {
		return
	}
	st, err := s.svc.Get(r.Context(), r.PathValue("id"))
	if err == nil && p.Role == model.RoleAgency && st.Agency != p.Agency {
		s.log.Warn("sla api: agency read of another agency's appeal refused", "actor", p.Name, "appeal_id", st.AppealID)
		err = sla.ErrForbidden
	}
	if err != nil {
		s.respond(w, sla.Reply{}, err)
		return
	}
	st.Seen = nil
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) respond(w http.ResponseWriter, rep sla.Reply, err error) {
	status := http.StatusOK
	switch {
	case err == nil, errors.Is(err, sla.ErrDuplicate):
		if rep.State != nil {
			rep.State.Seen = nil
		}
		writeJSON(w, status, rep)
		return
	case errors.Is(err, sla.ErrPending):
		writeJSON(w, http.StatusAccepted, rep)
		return
	case errors.Is(err, sla.ErrForbidden):
		status = http.StatusForbidden
	case errors.Is(err, sla.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, sla.ErrInvalidTransition):
		status = http.StatusConflict
	case errors.Is(err, sla.ErrInvalidCommand):
		status = http.StatusUnprocessableEntity
	default:
		s.log.Error("sla api: command failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "temporarily unavailable: " + err.Error(), Code: "unavailable"})
		return
	}
	writeJSON(w, status, errorBody{Error: err.Error(), Code: sla.Code(err), EventID: rep.EventID})
}

// maxParamBytes bounds an appeal id or agency name from a request (real ones are under 100 bytes): the
// value goes into ClickHouse's query text, whose size is capped (max_query_size), so a megabyte id would
// be a 503 instead of an answer.
const maxParamBytes = 256

// validID answers 404 for an id no appeal can have (too long, not UTF-8) and returns false.
func (s *Server) validID(w http.ResponseWriter, id string) bool {
	if len(id) <= maxParamBytes && utf8.ValidString(id) {
		return true
	}
	writeJSON(w, http.StatusNotFound, errorBody{Error: "no such appeal", Code: "not_found"})
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
