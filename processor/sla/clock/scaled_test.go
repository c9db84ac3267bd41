package clock

import (
	"testing"
	"time"
)

func TestScaledClock(t *testing.T) {
	sim := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		scale     float64
		realSpent time.Duration
		want      time.Time
	}{
		{1, 90 * time.Second, sim.Add(90 * time.Second)},
		{60, time.Minute, sim.Add(time.Hour)},
		{3600, 8 * time.Second, sim.Add(8 * time.Hour)},
	} {
		c, err := NewScaled(sim, tc.scale)
		if err != nil {
			t.Fatal(err)
		}
		wall := c.realStart
		c.wall = func() time.Time { return wall }
		if got := c.Now(); !got.Equal(sim) {
			t.Errorf("scale %v: at start Now() = %s, want %s", tc.scale, got, sim)
		}
		wall = wall.Add(tc.realSpent)
		if got := c.Now(); !got.Equal(tc.want) {
			t.Errorf("scale %v after %s real: Now() = %s, want %s", tc.scale, tc.realSpent, got, tc.want)
		}
		if got := c.Real(tc.want.Sub(sim)); got != tc.realSpent {
			t.Errorf("scale %v: Real(%s) = %s, want %s", tc.scale, tc.want.Sub(sim), got, tc.realSpent)
		}
	}
	if _, err := NewScaled(sim, 0.5); err == nil {
		t.Error("a scale below 1 was accepted")
	}
}
