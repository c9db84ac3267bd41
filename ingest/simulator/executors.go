package simulator

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// WorkingTime is the SLA calendar's arithmetic (processor/sla/policy.Calendar): Add(t, d) is the instant
// when d of working time has passed after t.
type WorkingTime interface {
	Add(t time.Time, d time.Duration) time.Time
}

// ExecutorConfig says how the simulated agencies and curators reach the SLA API and how they work.
type ExecutorConfig struct {
	BaseURL      string                     // SLA API, e.g. http://127.0.0.1:9470; required
	Client       *http.Client               // default: 30 s timeout
	CuratorToken string                     // bearer token of a curator; required
	AgencyToken  func(agency string) string // bearer token of each agency; required
	// Reassign names the agency the curators give an appeal that came back to them (or that they move):
	// the municipality's administration, typically. Required.
	Reassign func(oktmo, category, current string) string
	Seed     uint64
	Now      func() time.Time // the (possibly scaled) clock the SLA engine runs on; default time.Now
	Scale    float64          // simulated seconds per real second of Now; default 1
	Poll     time.Duration    // real time between listings of open appeals; default 1s
	Workers  int              // concurrent API calls; default 4
	// Margin keeps a resolution at least this far (simulated time) from its deadline, so that whether it
	// was on time never hangs on the API's own latency. Default 10m.
	Margin   time.Duration
	Calendar WorkingTime // agencies work only in its working hours; nil: round the clock
	// WorksInHours says which appeals the calendar applies to (those whose deadline counts working
	// hours); nil: all of them.
	WorksInHours func(source, category string) bool
	Log          *slog.Logger
}

func (c ExecutorConfig) withDefaults() (ExecutorConfig, error) {
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Scale == 0 {
		c.Scale = 1
	}
	if c.Poll == 0 {
		c.Poll = time.Second
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.Margin == 0 {
		c.Margin = 10 * time.Minute
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if c.BaseURL == "" || c.CuratorToken == "" || c.AgencyToken == nil || c.Reassign == nil {
		errs = append(errs, errors.New("executors: base URL, curator token, agency tokens and Reassign are required"))
	}
	if c.Scale < 1 || c.Poll < 0 || c.Workers < 0 || c.Margin < 0 {
		errs = append(errs, fmt.Errorf("executors: scale %v must be ≥ 1; poll, workers and margin must not be negative", c.Scale))
	}
	return c, errors.Join(errs...)
}

// appealState is what the SLA API returns for an appeal (the fields executors use).
type appealState struct {
	AppealID string    `json:"appeal_id"`
	OKTMO    string    `json:"oktmo"`
	Category string    `json:"category"`
	Source   string    `json:"source"`
	Agency   string    `json:"agency"`
	Status   string    `json:"status"`
	Received time.Time `json:"received_time"`
	Deadline time.Time `json:"deadline"`
	Updated  time.Time `json:"updated_time"`
}

// action is one planned API call.
type action struct {
	at       time.Time // simulated time it is due
	appealID string
	kind     string // take, resolve, reject (agency) or assign (curator)
	agency   string // assign: the new agency
	step     int    // the appeal's decision number: part of the event id, so a retry is idempotent
	seq      int    // insertion order, for a deterministic heap
}

// Executors plays the agencies and the curators of the ЦУР against the SLA API, as real ones would:
// it lists open appeals as a curator, and takes, resolves (report text, for a share photos or a video)
// and rejects as each agency with that agency's token; the curators reassign what came back to them
// and move a share of appeals to another agency. Every decision and duration of an appeal comes from the
// seed and the appeal's id, so a seed replays the same behaviour. Its Truth records what it did and what
// that must mean for the SLA: deadlines, on-time resolutions, overdue appeals and breaches.
type Executors struct {
	cfg   ExecutorConfig
	truth *ExecutorTruth

	mu      sync.Mutex
	known   map[string]*tracked
	plan    actionHeap
	seq     int
	since   time.Time
	started time.Time
}

type tracked struct {
	st      appealState
	step    int  // decisions taken so far, part of the seed of the next one
	pending bool // an action is planned or running
}

// NewExecutors checks the configuration.
func NewExecutors(cfg ExecutorConfig) (*Executors, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Executors{cfg: cfg, truth: newExecutorTruth(), known: map[string]*tracked{}}, nil
}

// Truth is the executors' account; read it after Run returned for a settled picture.
func (x *Executors) Truth() *ExecutorTruth { return x.truth }

// Run lists and works appeals until ctx ends; then it waits for the API calls in flight.
func (x *Executors) Run(ctx context.Context) error {
	x.started = x.cfg.Now()
	x.since = x.started.Add(-7 * 24 * time.Hour)
	due := make(chan action)
	var wg sync.WaitGroup
	for range x.cfg.Workers {
		wg.Go(func() {
			for a := range due {
				x.perform(ctx, a)
			}
		})
	}
	defer wg.Wait()
	defer close(due)
	tick := time.NewTicker(min(x.cfg.Poll, 100*time.Millisecond))
	defer tick.Stop()
	nextList := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if now := time.Now(); !now.Before(nextList) {
			nextList = now.Add(x.cfg.Poll)
			if err := x.list(ctx); err != nil && ctx.Err() == nil {
				x.cfg.Log.Warn("executors: listing open appeals failed; retrying", "err", err)
			}
		}
		for _, a := range x.popDue(x.cfg.Now()) {
			select {
			case due <- a:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

func (x *Executors) popDue(now time.Time) []action {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []action
	for len(x.plan) > 0 && !x.plan[0].at.After(now) {
		out = append(out, heap.Pop(&x.plan).(action))
	}
	return out
}

// list discovers new open appeals and plans their first step.
func (x *Executors) list(ctx context.Context) error {
	var page struct {
		Appeals []appealState `json:"appeals"`
	}
	q := url.Values{"since": {x.since.UTC().Format(time.RFC3339)}, "limit": {"10000"}}
	if err := x.call(context.WithoutCancel(ctx), http.MethodGet, "/v1/appeals?"+q.Encode(), x.cfg.CuratorToken, nil, &page); err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, st := range page.Appeals {
		if _, ok := x.known[st.AppealID]; ok {
			continue
		}
		t := &tracked{st: st}
		x.known[st.AppealID] = t
		x.truth.seen(st)
		x.planNext(t, x.cfg.Now())
	}
	return nil
}

// planNext decides an appeal's next step from its state; x.mu is held.
func (x *Executors) planNext(t *tracked, now time.Time) {
	st := t.st
	t.pending = false
	if st.Status == "resolved" {
		return
	}
	r := seeded(x.cfg.Seed, "appeal", st.AppealID, strconv.Itoa(t.step))
	t.step++
	a := action{appealID: st.AppealID, step: t.step}
	base := st.Updated // the last change; a new appeal's event time may precede its receipt
	if st.Received.After(base) {
		base = st.Received
	}
	switch {
	case st.Status == "returned" || st.Agency == "":
		// Curators (round the clock) give it to the municipality's agency after a short look.
		a.kind, a.agency = "assign", x.cfg.Reassign(st.OKTMO, st.Category, "")
		a.at = now.Add(logNormal(r, 25*time.Minute, 0.5))
	case st.Status == "assigned":
		p := agencyProfile(x.cfg.Seed, st.Agency)
		switch u := r.Float64(); {
		case u < p.reassignShare && t.step == 1:
			if to := x.cfg.Reassign(st.OKTMO, st.Category, st.Agency); to != "" && to != st.Agency {
				a.kind, a.agency = "assign", to
				a.at = now.Add(logNormal(r, 15*time.Minute, 0.5))
				break
			}
			fallthrough
		case u < p.reassignShare+p.rejectShare:
			a.kind = "reject"
			a.at = x.working(st, base, logNormal(r, p.takeMedian, p.sigma))
		default:
			a.kind = "take"
			a.at = x.working(st, base, logNormal(r, p.takeMedian, p.sigma))
		}
	case st.Status == "in_work":
		p := agencyProfile(x.cfg.Seed, st.Agency)
		d := time.Duration(float64(logNormal(r, p.resolveMedian, p.sigma)) * categoryFactor(x.cfg.Seed, st.Category))
		a.kind, a.at = "resolve", x.working(st, base, d)
	default:
		return
	}
	x.schedule(t, a)
}

func (x *Executors) schedule(t *tracked, a action) {
	x.seq++
	a.seq = x.seq
	t.pending = true
	heap.Push(&x.plan, a)
}

// working adds d of the agencies' working time to from: calendar time unless the appeal's deadline
// counts working hours.
func (x *Executors) working(st appealState, from time.Time, d time.Duration) time.Time {
	if x.cfg.Calendar == nil || (x.cfg.WorksInHours != nil && !x.cfg.WorksInHours(st.Source, st.Category)) {
		return from.Add(d)
	}
	return x.cfg.Calendar.Add(from, d)
}

type command struct {
	Agency      string   `json:"agency,omitempty"`
	Comment     string   `json:"comment,omitempty"`
	Attachments []string `json:"attachments,omitempty"`
	EventID     string   `json:"event_id"`
}

type reply struct {
	Code  string       `json:"code"`
	State *appealState `json:"state"`
}

// perform makes one API call and plans what follows.
func (x *Executors) perform(ctx context.Context, a action) {
	x.mu.Lock()
	t := x.known[a.appealID]
	st := t.st
	now := x.cfg.Now()
	if a.kind == "resolve" && now.After(st.Deadline.Add(-x.cfg.Margin)) && now.Before(st.Deadline.Add(x.cfg.Margin)) {
		// Too close to call: resolve clearly late instead, so the truth does not hang on latency.
		a.at = st.Deadline.Add(x.cfg.Margin)
		x.seq++
		a.seq = x.seq
		heap.Push(&x.plan, a)
		x.mu.Unlock()
		return
	}
	x.mu.Unlock()
	r := seeded(x.cfg.Seed, "words", a.appealID, a.kind, strconv.Itoa(a.step))
	cmd := command{EventID: fmt.Sprintf("sim:%s:%s:%d", a.appealID, a.kind, a.step)}
	token := x.cfg.AgencyToken(st.Agency)
	switch a.kind {
	case "assign":
		token, cmd.Agency, cmd.Comment = x.cfg.CuratorToken, a.agency, "Переназначено куратором ЦУР"
	case "take":
		cmd.Comment = "Принято в работу"
	case "reject":
		cmd.Comment = rejectTexts[r.IntN(len(rejectTexts))]
	case "resolve":
		cmd.Comment = reportTexts[r.IntN(len(reportTexts))]
		if r.Float64() < 0.45 {
			for i := range 1 + r.IntN(3) {
				cmd.Attachments = append(cmd.Attachments, fmt.Sprintf("%s%s/photo-%d.jpg", mediaHost, url.PathEscape(a.appealID), i+1))
			}
		}
		if r.Float64() < 0.1 {
			cmd.Attachments = append(cmd.Attachments, fmt.Sprintf("%s%s/video-1.mp4", mediaHost, url.PathEscape(a.appealID)))
		}
	}
	var rep reply
	// A command already sent is seen through even when the executors are told to stop (the API would
	// otherwise log a failed request); the client's timeout bounds it.
	err := x.call(context.WithoutCancel(ctx), http.MethodPost, "/v1/appeals/"+url.PathEscape(a.appealID)+"/"+a.kind, token, cmd, &rep)
	var refused *refusal
	if errors.As(err, &refused) && refused.status != http.StatusAccepted && refused.status < 500 {
		// The state is not what this executor thought: read it and decide again.
		var cur appealState
		if gerr := x.call(ctx, http.MethodGet, "/v1/appeals/"+url.PathEscape(a.appealID), x.cfg.CuratorToken, nil, &cur); gerr == nil {
			x.cfg.Log.Warn("executors: command refused; deciding again", "appeal_id", a.appealID, "action", a.kind, "err", err)
			x.mu.Lock()
			t.st = cur
			x.planNext(t, now)
			x.mu.Unlock()
			return
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if err != nil || rep.State == nil {
		if ctx.Err() != nil {
			return
		}
		// Unknown outcome (timeout, 202 Accepted, infrastructure): send the same command again later;
		// its event id makes a repeat of an applied command a no-op.
		x.cfg.Log.Warn("executors: command not confirmed; retrying", "appeal_id", a.appealID, "action", a.kind, "err", err)
		a.at = now.Add(time.Duration(float64(x.cfg.Poll) * x.cfg.Scale))
		x.seq++
		a.seq = x.seq
		heap.Push(&x.plan, a)
		return
	}
	x.truth.did(a, now, *rep.State, len(cmd.Attachments))
	t.st = *rep.State
	x.planNext(t, now)
}

// refusal is an API answer other than 200.
type refusal struct {
	status int
	msg    string
}

func (e *refusal) Error() string { return e.msg }

// call sends one request; out receives the JSON answer of a 200.
func (x *Executors) call(ctx context.Context, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, x.cfg.BaseURL+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := x.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("executors: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("executors: %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return &refusal{status: resp.StatusCode, msg: fmt.Sprintf("executors: %s %s: %s: %.300s", method, path, resp.Status, raw)}
	}
	return json.Unmarshal(raw, out)
}

type actionHeap []action

func (h actionHeap) Len() int { return len(h) }
func (h actionHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h actionHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *actionHeap) Push(v any)   { *h = append(*h, v.(action)) }
func (h *actionHeap) Pop() any {
	old := *h
	a := old[len(old)-1]
	*h = old[:len(old)-1]
	return a
}
