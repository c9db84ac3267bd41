package dedup

import (
	"testing"

	"github.com/teplokarta/teplokarta/internal/model"
)

// TestCommitCheck drives the commit script directly: an incident's claims are written only if every band
// field of every bucket it read still holds what the decision saw there (or the appeal itself). The
// race it guards against needs two instances to interleave between a read and a commit, which
// TestTwoInstances cannot force; here the "other instance" is a field written by hand.
func TestCommitCheck(t *testing.T) {
	type held struct {
		key  int // index into item.keys
		band int
		by   string
	}
	type testCase = struct {
		name        string
		redis, seen []held // band fields claimed in Redis at commit time; what the decision saw (else free)
		commit      bool
	}
	tests := []testCase{
		{name: "all free, seen free", commit: true},
		{name: "claimed meanwhile in the own bucket", redis: []held{{0, 3, "vk:other"}}},
		{name: "claimed meanwhile in the other bucket", redis: []held{{1, 15, "vk:other"}}},
		{name: "held as seen", redis: []held{{0, 3, "vk:other"}, {1, 0, "vk:third"}},
			seen: []held{{0, 3, "vk:other"}, {1, 0, "vk:third"}}, commit: true},
		{name: "seen held, now free", seen: []held{{1, 7, "vk:other"}}},
		{name: "held by another member than seen", redis: []held{{0, 2, "vk:third"}}, seen: []held{{0, 2, "vk:other"}}},
		{name: "held by the appeal itself (a replay)", redis: []held{{0, 5, "pos:me"}, {1, 9, "pos:me"}}, commit: true},
	}
	// Most fields of a bucket seen held (a text whose words many earlier ones share), one changed meanwhile.
	var many, changed []held
	for b := range 9 {
		many = append(many, held{1, b, "vk:other"})
		changed = append(changed, held{1, b, "vk:other"})
	}
	changed[4].by = "vk:third"
	tests = append(tests,
		testCase{name: "most held as seen", redis: many, seen: many, commit: true},
		testCase{name: "most held as seen but one", redis: changed, seen: many})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, rdb, _ := newTestDeduper(t)
			ctx := testCtx(t)
			a := appealAt(model.SourcePOS, "me", burstPipe[0], oktmoRyazan, t0, 0, 1)
			it := d.prepare([]*model.Appeal{a})[0]
			if !it.lsh || len(it.keys) != 2 {
				t.Fatalf("the appeal reads %d buckets (lsh %v); the test needs two", len(it.keys), it.lsh)
			}
			it.own = 0 // whichever bucket the time falls in, the test names the own one first
			for _, h := range tc.redis {
				if err := rdb.HSet(ctx, it.keys[h.key], it.fields[h.band], h.by).Err(); err != nil {
					t.Fatal(err)
				}
			}
			for _, h := range tc.seen {
				it.expect[h.key][h.band] = h.by
			}
			failed, err := d.runCommits(ctx, "test", []*item{it}, true, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(failed) == 0; got != tc.commit {
				t.Fatalf("committed %v, want %v", got, tc.commit)
			}
			rec, err := rdb.HExists(ctx, it.keys[0], recordField(a.ID)).Result()
			if err != nil {
				t.Fatal(err)
			}
			if rec != tc.commit {
				t.Fatalf("record written %v, want %v (a failed check writes nothing)", rec, tc.commit)
			}
			if !tc.commit {
				return
			}
			// Committed: every free field of the own bucket is the appeal's now, held ones keep their claimant.
			for b, f := range it.fields {
				want := a.ID
				for _, h := range tc.redis {
					if h.key == 0 && h.band == b {
						want = h.by
					}
				}
				if got := rdb.HGet(ctx, it.keys[0], f).Val(); got != want {
					t.Errorf("band %d holds %q, want %q", b, got, want)
				}
			}
		})
	}
}
