package api

import (
	"context"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/teplokarta/teplokarta/internal/model"
	"github.com/teplokarta/teplokarta/processor/sla"
)

// Lister is the optional part of the service behind GET /v1/appeals: the work queue.
type Lister interface {
	OpenAppeals(ctx context.Context, agency string, all bool, since time.Time, limit int) ([]sla.State, error)
	Now() time.Time
}

const (
	defaultListSince = 7 * 24 * time.Hour
	maxListLimit     = 10000
)

// list serves GET /v1/appeals[?since=RFC3339&limit=N&agency=NAME]: open appeals, oldest first. An
// agency sees its own queue only; a curator sees everything open, or one agency's queue with agency=
// (agency= with an empty value: the appeals returned to the curators).
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	p, ok := s.principal(w, r)
	if !ok {
		return
	}
	l, ok := s.svc.(Lister)
	if !ok {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "listing is not served here", Code: "not_found"})
		return
	}
	q := r.URL.Query()
	since := l.Now().Add(-defaultListSince)
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "since: want RFC 3339, e.g. 2026-11-20T09:00:00Z", Code: "invalid_command"})
			return
		}
		since = t
	}
	limit := 1000
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > maxListLimit {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "limit: want 1.." + strconv.Itoa(maxListLimit), Code: "invalid_command"})
			return
		}
		limit = n
	}
	agency, all := "", true
	if p.Role == model.RoleAgency {
		agency, all = p.Agency, false
	} else if q.Has("agency") {
		agency, all = q.Get("agency"), false
		if len(agency) > maxParamBytes || !utf8.ValidString(agency) {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "agency: not an agency name", Code: "invalid_command"})
			return
		}
	}
	states, err := l.OpenAppeals(r.Context(), agency, all, since, limit)
	if err != nil {
		s.respond(w, sla.Reply{}, err)
		return
	}
	if states == nil {
		states = []sla.State{}
	}
	writeJSON(w, http.StatusOK, struct {
		Appeals []sla.State `json:"appeals"`
	}{states})
}
