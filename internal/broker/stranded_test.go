package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	strandSession = 6 * time.Second // kfake's minimum
	strandRebal   = 2 * time.Second
	// strandGroups is how many groups each test strands a member in at once. kfake strands one only about
	// half the time (its reply to the dead member races the closed connection in a select, and a
	// delivered reply starts the session timer), so the tests need many: all 16 escape with p = 2⁻¹⁶.
	strandGroups = 16
)

// member speaks the classic group protocol by hand, over its own client (its own connections).
type member struct {
	t     *testing.T
	cl    *kgo.Client
	group string
	id    string
	gen   int32
}

func newMember(t *testing.T, addr, group string) *member {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	return &member{t: t, cl: cl, group: group}
}

func (m *member) joinRequest() *kmsg.JoinGroupRequest {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Group, req.MemberID, req.ProtocolType = m.group, m.id, "consumer"
	req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = int32(strandSession/time.Millisecond), int32(strandRebal/time.Millisecond)
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = []string{"t"}
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name, p.Metadata = "range", meta.AppendTo(nil)
	req.Protocols = append(req.Protocols, p)
	return req
}

// memberID gets the member its id (JoinGroup answers a first join with MEMBER_ID_REQUIRED).
func (m *member) memberID(ctx context.Context) bool {
	resp, err := m.joinRequest().RequestWith(ctx, m.cl)
	if err == nil && !errors.Is(kerr.ErrorForCode(resp.ErrorCode), kerr.MemberIDRequired) {
		err = fmt.Errorf("%w, want MEMBER_ID_REQUIRED", kerr.ErrorForCode(resp.ErrorCode))
	}
	if err != nil {
		m.t.Errorf("%s: first join: %v", m.group, err)
		return false
	}
	m.id = resp.MemberID
	return true
}

// join joins under its id and, as the leader, hands every member one share; it returns the members.
func (m *member) join(ctx context.Context) ([]string, bool) {
	resp, err := m.joinRequest().RequestWith(ctx, m.cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err == nil && resp.LeaderID != m.id {
		err = fmt.Errorf("leader %s, want this member %s", resp.LeaderID, m.id)
	}
	if err != nil {
		m.t.Errorf("%s: join: %v", m.group, err)
		return nil, false
	}
	m.gen = resp.Generation
	sreq := kmsg.NewPtrSyncGroupRequest()
	sreq.Group, sreq.MemberID, sreq.Generation = m.group, m.id, m.gen
	sreq.ProtocolType, sreq.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr("range")
	var ids []string
	for _, mem := range resp.Members {
		ids = append(ids, mem.MemberID)
		a := kmsg.NewSyncGroupRequestGroupAssignment()
		a.MemberID = mem.MemberID
		sreq.GroupAssignment = append(sreq.GroupAssignment, a)
	}
	sresp, err := sreq.RequestWith(ctx, m.cl)
	if err == nil {
		err = kerr.ErrorForCode(sresp.ErrorCode)
	}
	if err != nil {
		m.t.Errorf("%s: sync: %v", m.group, err)
		return nil, false
	}
	return ids, true
}

func (m *member) heartbeat(ctx context.Context) error {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group, req.MemberID, req.Generation = m.group, m.id, m.gen
	resp, err := req.RequestWith(ctx, m.cl)
	if err != nil {
		return err
	}
	return kerr.ErrorForCode(resp.ErrorCode)
}

// strand builds the state the bug leaves (about half the time): live member a leads a Stable group that
// still lists b, which died while its JoinGroup waited for the rebalance. It returns a, or nil after
// reporting an error.
func strand(t *testing.T, ctx context.Context, addr, group string) *member {
	a := newMember(t, addr, group)
	t.Cleanup(a.cl.Close)
	if !a.memberID(ctx) {
		return nil
	}
	if got, ok := a.join(ctx); !ok || len(got) != 1 {
		t.Errorf("%s: first generation: %v", group, got)
		return nil
	}
	b := newMember(t, addr, group)
	if !b.memberID(ctx) {
		return nil
	}
	joined := make(chan struct{})
	go func() {
		defer close(joined)
		_, _ = b.joinRequest().RequestWith(ctx, b.cl) // waits for a to rejoin; b dies first
	}()
	// The join reaches the coordinator and puts the group into a rebalance: a's heartbeat says so.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := a.heartbeat(ctx)
		if errors.Is(err, kerr.RebalanceInProgress) {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Errorf("%s: waiting for b's join to start a rebalance: %v", group, err)
			return nil
		}
	}
	b.cl.Close() // SIGKILL, as far as the broker can tell: the connection waiting in JoinGroup is gone
	<-joined
	time.Sleep(200 * time.Millisecond) // the broker notices the closed connection
	if got, ok := a.join(ctx); !ok || len(got) != 2 {
		t.Errorf("%s: second generation: %v, want a and the dead b", group, got)
		return nil
	}
	return a
}

// strandAll strands a member in strandGroups groups at once and returns their live members.
func strandAll(t *testing.T, ctx context.Context, addr string) []*member {
	out := make([]*member, strandGroups)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() { out[i] = strand(t, ctx, addr, fmt.Sprintf("stranded-%d", i)) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// TestStrandedMemberIsDropped: a member that died inside its JoinGroup is dropped from its group after
// its session timeout, and the live member then leads a group of one (and would get every partition);
// in at least one of the groups it was the watch that dropped it, kfake itself leaving it stranded.
func TestStrandedMemberIsDropped(t *testing.T) {
	t.Parallel()
	b, err := Start(Config{Port: 0, Partitions: 1, Topics: []string{"t"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for _, a := range strandAll(t, ctx, b.Addr()) {
		wg.Go(func() {
			start := time.Now()
			for {
				err := a.heartbeat(ctx)
				if errors.Is(err, kerr.RebalanceInProgress) {
					break
				}
				if err != nil {
					t.Errorf("%s: heartbeat: %v", a.group, err)
					return
				}
				if time.Since(start) > strandSession+10*time.Second {
					t.Errorf("%s: the dead member is still in the group %s after its session timeout", a.group, time.Since(start).Round(time.Second))
					return
				}
				time.Sleep(500 * time.Millisecond)
			}
			if got, ok := a.join(ctx); ok && (len(got) != 1 || got[0] != a.id) {
				t.Errorf("%s: after the rejoin the group holds %v, want only %s", a.group, got, a.id)
			}
			if err := a.heartbeat(ctx); err != nil {
				t.Errorf("%s: the group of one is not stable: %v", a.group, err)
			}
		})
	}
	wg.Wait()
	if k := b.watch.kicked(); k == 0 {
		t.Errorf("the watch dropped no member in %d groups: kfake delivered every reply to a dead member (p = 2⁻¹⁶) or the watch is not working", strandGroups)
	} else {
		t.Logf("%d of %d stranded members dropped by the watch, the rest by kfake's own session timer", k, strandGroups)
	}
}

// TestKfakeAloneKeepsTheStrandedMember shows the broker bug itself, so that a kfake release that fixes
// it is noticed (the watch in stranded.go can then go): without the watch, some group still lists its
// dead member, Stable, long after the member's session timeout.
func TestKfakeAloneKeepsTheStrandedMember(t *testing.T) {
	t.Parallel()
	cl, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	live := strandAll(t, ctx, cl.ListenAddrs()[0])
	stranded := make([]bool, len(live))
	var wg sync.WaitGroup
	for i, a := range live {
		wg.Go(func() {
			for end := time.Now().Add(strandSession + strandRebal + 3*time.Second); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
				if err := a.heartbeat(ctx); err != nil {
					return // kfake's own timer dropped this one
				}
			}
			info := cl.GroupInfo(a.group)
			stranded[i] = info != nil && len(info.Members) == 2 && info.State == "Stable"
		})
	}
	wg.Wait()
	n := 0
	for _, s := range stranded {
		if s {
			n++
		}
	}
	if n == 0 {
		t.Fatalf("kfake dropped every dead member of %d groups itself: if it no longer strands them, remove the watch in stranded.go", strandGroups)
	}
	t.Logf("kfake alone kept %d of %d dead members past their session timeout", n, strandGroups)
}

func TestCloseTwice(t *testing.T) {
	b, err := Start(Config{Port: 0, Partitions: 1, Topics: []string{"t"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	b.Close()
}
