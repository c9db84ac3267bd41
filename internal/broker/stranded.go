package broker

import (
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// strandedWatch works around a kfake group-coordinator bug that stalls a consumer group for good.
//
// A member that dies while its JoinGroup waits for a rebalance (a processor SIGKILLed seconds after it
// started) is still counted as joining; when the rebalance completes, kfake's reply to it fails on the
// closed connection, and kfake starts a member's session timer only after a reply was delivered. If a
// live member is the leader, its SyncGroup makes the group Stable and cancels the pending-sync timer,
// the other net for members that never sync. The dead member then stays in the group with no timer,
// holding its share of the partitions while nobody reads them, until the broker restarts. Apache Kafka
// schedules every member's heartbeat expiry when a join completes, delivered or not, so it drops the
// dead member after its session timeout. (Found by `make chaos`: processor-sigkill left 8 of 16
// partitions unread for the rest of a run; TestStrandedMemberIsDropped replays it.)
//
// The watch restores Kafka's behaviour through kfake's public hooks only: it notes when each member
// last sent a group request (join, sync, heartbeat, offset commit), and when a member of a Stable group
// has been silent for longer than its session timeout it answers the other members' heartbeats with
// REBALANCE_IN_PROGRESS. They rejoin; the silent member does not, and kfake removes it when the
// rebalance completes (after the members' rebalance timeout at most).
type strandedWatch struct {
	cluster *kfake.Cluster
	log     *slog.Logger
	grace   time.Duration // silence beyond the session timeout before a member counts as stranded

	mu     sync.Mutex
	groups map[string]*watchedGroup
	kicks  int // members found stranded
}

// kicked is how many stranded members the watch has found.
func (w *strandedWatch) kicked() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.kicks
}

type watchedGroup struct {
	session map[string]time.Duration // member → session timeout from its JoinGroup
	seen    map[string]time.Time     // member → last group request (or first listed by the broker)
	maxSess time.Duration            // the longest session timeout any member asked for
	kick    string                   // a stranded member: the others are asked to rejoin; "" = none
	kicked  string                   // the last member found stranded (counted once)
}

func newStrandedWatch(c *kfake.Cluster, log *slog.Logger) *strandedWatch {
	w := &strandedWatch{cluster: c, log: log, grace: time.Second, groups: map[string]*watchedGroup{}}
	observe := func(req kmsg.Request) (kmsg.Response, error, bool) {
		switch r := req.(type) {
		case *kmsg.JoinGroupRequest:
			w.saw(r.Group, r.MemberID, time.Duration(r.SessionTimeoutMillis)*time.Millisecond)
		case *kmsg.SyncGroupRequest:
			w.saw(r.Group, r.MemberID, 0)
		case *kmsg.OffsetCommitRequest:
			w.saw(r.Group, r.MemberID, 0)
		case *kmsg.LeaveGroupRequest:
			w.left(r.Group, r.MemberID)
			for _, m := range r.Members {
				w.left(r.Group, m.MemberID)
			}
		case *kmsg.HeartbeatRequest:
			w.saw(r.Group, r.MemberID, 0)
			if stranded := w.kicking(r.Group, r.MemberID); stranded != "" {
				resp := r.ResponseKind().(*kmsg.HeartbeatResponse)
				resp.ErrorCode = kerr.RebalanceInProgress.Code
				c.KeepControl()
				return resp, nil, true
			}
		}
		return nil, nil, false // observed only: kfake handles the request as usual
	}
	for _, k := range []kmsg.Key{kmsg.JoinGroup, kmsg.SyncGroup, kmsg.OffsetCommit, kmsg.LeaveGroup, kmsg.Heartbeat} {
		c.ControlKey(int16(k), observe)
	}
	return w
}

func (w *strandedWatch) group(name string) *watchedGroup {
	g := w.groups[name]
	if g == nil {
		g = &watchedGroup{session: map[string]time.Duration{}, seen: map[string]time.Time{}}
		w.groups[name] = g
	}
	return g
}

func (w *strandedWatch) saw(group, member string, session time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	g := w.group(group)
	if session > 0 {
		g.maxSess = max(g.maxSess, session)
	}
	if member == "" {
		return // a first join; the broker names the member in its reply
	}
	g.seen[member] = time.Now()
	if session > 0 {
		g.session[member] = session
	}
}

func (w *strandedWatch) left(group, member string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if g := w.groups[group]; g != nil {
		delete(g.seen, member)
		delete(g.session, member)
	}
}

// kicking returns the stranded member of group whose fellow members are asked to rejoin ("" if none,
// or if member is the stranded one itself: it is alive after all, and its heartbeat has just said so).
func (w *strandedWatch) kicking(group, member string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	g := w.groups[group]
	if g == nil || g.kick == "" {
		return ""
	}
	if g.kick == member {
		g.kick = ""
		return ""
	}
	return g.kick
}

// check compares each Stable group's members, as the broker lists them, with the requests seen.
func (w *strandedWatch) check(now time.Time) {
	w.mu.Lock()
	names := make([]string, 0, len(w.groups))
	for n := range w.groups {
		names = append(names, n)
	}
	w.mu.Unlock()
	for _, name := range names {
		info := w.cluster.GroupInfo(name) // outside w.mu: it waits for the cluster loop, which runs our hooks
		w.mu.Lock()
		g := w.groups[name]
		g.kick = ""
		if info == nil || info.State != "Stable" {
			w.mu.Unlock()
			continue
		}
		listed := map[string]bool{}
		for _, m := range info.Members {
			listed[m.MemberID] = true
			seen, ok := g.seen[m.MemberID]
			if !ok {
				g.seen[m.MemberID] = now // never sent a request by its id: count from now
				continue
			}
			session := g.session[m.MemberID]
			if session == 0 {
				session = g.maxSess
			}
			if session > 0 && now.Sub(seen) > session+w.grace && len(info.Members) > 1 {
				if g.kicked != m.MemberID {
					w.kicks++
					g.kicked = m.MemberID
				}
				g.kick = m.MemberID
				if w.log != nil {
					w.log.Warn("broker: a group member is silent past its session timeout and the broker kept it; asking the others to rejoin so it is dropped",
						"group", name, "member", m.MemberID, "silent", now.Sub(seen).Round(time.Second), "session_timeout", session)
				}
				break
			}
		}
		for id := range g.seen { // members the broker dropped
			if !listed[id] {
				delete(g.seen, id)
				delete(g.session, id)
			}
		}
		w.mu.Unlock()
	}
}

// run checks every period until stop is closed.
func (w *strandedWatch) run(period time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			w.check(now)
		}
	}
}
