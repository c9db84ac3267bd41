package sla

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/model"
)

// apiPrefix marks event ids of commands whose HTTP caller waits for the result.
const apiPrefix = "api:"

// ErrPending means the command was accepted (produced to appeals.status) but its result did not arrive
// in time; it will still be applied.
var ErrPending = errors.New("command accepted, result pending")

// Reply is what the applier tells a waiting HTTP caller.
type Reply struct {
	EventID string `json:"event_id"`
	Code    string `json:"code"` // ok, forbidden, not_found, invalid_transition, invalid_command, duplicate
	Error   string `json:"error,omitempty"`
	State   *State `json:"state,omitempty"`
}

// Err turns the reply back into the package's sentinel errors.
func (r Reply) Err() error {
	for _, s := range []error{ErrForbidden, ErrNotFound, ErrInvalidTransition, ErrInvalidCommand, ErrDuplicate, ErrStale} {
		if Code(s) == r.Code {
			return &replyError{msg: r.Error, base: s}
		}
	}
	if r.Code != "ok" {
		return errors.New(r.Error)
	}
	return nil
}

func (e *Engine) replyKey(eventID string) string { return e.cfg.KeyPrefix + "sla:reply:" + eventID }

// reply hands results of API commands to their callers, whichever instance they wait on.
func (e *Engine) reply(ctx context.Context, results []Result) {
	_, err := e.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, r := range results {
			if !isAPI(r.EventID) {
				continue
			}
			rep := Reply{EventID: r.EventID, Code: Code(r.Err), State: r.State}
			if r.Err != nil {
				rep.Error = r.Err.Error()
			}
			b, _ := json.Marshal(rep)
			p.RPush(ctx, e.replyKey(r.EventID), b)
			p.Expire(ctx, e.replyKey(r.EventID), e.cfg.ReplyTTL)
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		e.log.Warn("sla: replies not delivered; callers will see a pending result", "err", err)
	}
}

// NewCommandID returns a fresh event id for an API command.
func NewCommandID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return apiPrefix + hex.EncodeToString(b)
}

// Submit produces an authorized command to appeals.status and waits up to wait for the applier's
// verdict. The state-dependent checks (is the appeal this agency's? is the transition allowed?) happen
// in the applier, the single writer, so a command can never race another one for the same appeal.
func (e *Engine) Submit(ctx context.Context, ev model.StatusEvent, wait time.Duration) (Reply, error) {
	if ev.EventID == "" {
		ev.EventID = NewCommandID()
	}
	if ev.EventTime.IsZero() {
		ev.EventTime = e.clk.Now()
	}
	if err := Authorize(ev); err != nil {
		e.account(ev, err)
		return Reply{EventID: ev.EventID, Code: Code(err), Error: err.Error()}, err
	}
	if err := e.publish(ctx, e.cfg.StatusTopic, []model.StatusEvent{ev}); err != nil {
		return Reply{}, err
	}
	res, err := e.rdb.BLPop(ctx, wait, e.replyKey(ev.EventID)).Result()
	if errors.Is(err, redis.Nil) {
		return Reply{EventID: ev.EventID, Code: "pending"}, ErrPending
	}
	if err != nil {
		return Reply{}, fmt.Errorf("sla: wait for result: %w", err)
	}
	var rep Reply
	if err := json.Unmarshal([]byte(res[1]), &rep); err != nil {
		return Reply{}, fmt.Errorf("sla: decode result: %w", err)
	}
	return rep, rep.Err()
}

// Get returns an appeal's current state.
func (e *Engine) Get(ctx context.Context, appealID string) (*State, error) {
	m, err := e.store.load(ctx, []string{appealID})
	if err != nil {
		return nil, err
	}
	st := m[appealID]
	if st == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, appealID)
	}
	return st, nil
}

// Publish produces events to appeals.status as any other system would (used by tests and tools).
func (e *Engine) Publish(ctx context.Context, evs ...model.StatusEvent) error {
	return e.publish(ctx, e.cfg.StatusTopic, evs)
}

// replyError carries the applier's message (already naming the sentinel) and still matches it.
type replyError struct {
	msg  string
	base error
}

func (e *replyError) Error() string { return e.msg }
func (e *replyError) Unwrap() error { return e.base }
