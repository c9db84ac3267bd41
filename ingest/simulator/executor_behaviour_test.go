package simulator

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestExecutorBehaviourIsSeeded: an agency's profile and an appeal's durations depend on the seed and
// the names only, never on the order they are met in; a few agencies (not none, not most) are late ones
// whose median resolution is past the 8 hours.
func TestExecutorBehaviourIsSeeded(t *testing.T) {
	agencies := make([]string, 200)
	for i := range agencies {
		agencies[i] = fmt.Sprintf("Администрация %d", i)
	}
	late := 0
	for _, a := range agencies {
		p, q := agencyProfile(7, a), agencyProfile(7, a)
		if p != q {
			t.Fatalf("%s: profile differs for the same seed: %+v %+v", a, p, q)
		}
		if p.late {
			late++
			if p.resolveMedian <= 8*time.Hour {
				t.Errorf("%s: late agency resolves in %s", a, p.resolveMedian)
			}
		} else if p.resolveMedian >= 8*time.Hour {
			t.Errorf("%s: punctual agency's median %s", a, p.resolveMedian)
		}
	}
	if late < 10 || late > 45 {
		t.Errorf("%d of %d agencies are late ones, want about %.0f", late, len(agencies), lateAgencyShare*float64(len(agencies)))
	}
	differ := 0
	for _, a := range agencies {
		if agencyProfile(7, a) != agencyProfile(8, a) {
			differ++
		}
	}
	if differ < len(agencies)-2 {
		t.Errorf("another seed changed only %d of %d profiles", differ, len(agencies))
	}
	draws := func(seed uint64) []time.Duration {
		var out []time.Duration
		for i := range 1001 {
			out = append(out, logNormal(seeded(seed, "appeal", fmt.Sprint("vk:", i), "0"), 3*time.Hour, 0.6))
		}
		return out
	}
	a, b := draws(7), draws(7)
	if !slices.Equal(a, b) {
		t.Fatal("durations differ for the same seed")
	}
	slices.Sort(a)
	if med := a[len(a)/2]; med < 150*time.Minute || med > 210*time.Minute {
		t.Errorf("median of log-normal draws %s, want about 3h", med)
	}
}
