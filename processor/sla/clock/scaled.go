package clock

import (
	"fmt"
	"time"
)

// Scaled is a clock that runs Scale times faster than the wall clock from the moment it was made: one
// real minute is Scale simulated minutes. A demo run (`teplokarta run --sla-time-scale 60`) gives it to
// every component that stamps or waits for times — the simulator, ingest's received time, the SLA
// engine's timers and commands, the executors, the terminal view — so that they all live on one
// simulated timeline and an 8-hour deadline passes in 8 real minutes while staying 8 hours in the data.
// Safe for concurrent use (it holds no mutable state).
type Scaled struct {
	realStart time.Time // wall-clock instant the simulated timeline starts
	simStart  time.Time
	scale     float64
	wall      func() time.Time
}

// NewScaled starts a scaled clock at sim (now, on the simulated timeline) running scale times faster than
// the wall clock. scale must be ≥ 1.
func NewScaled(sim time.Time, scale float64) (*Scaled, error) {
	if scale < 1 {
		return nil, fmt.Errorf("clock: time scale %v must be at least 1", scale)
	}
	return &Scaled{realStart: time.Now(), simStart: sim.UTC(), scale: scale, wall: time.Now}, nil
}

// Now returns the simulated time.
func (s *Scaled) Now() time.Time {
	return s.simStart.Add(time.Duration(float64(s.wall().Sub(s.realStart)) * s.scale)).UTC()
}

// Scale is how many simulated seconds pass per real second.
func (s *Scaled) Scale() float64 { return s.scale }

// Real converts a simulated span into the wall-clock span it takes (for sleeping until a simulated time).
func (s *Scaled) Real(d time.Duration) time.Duration { return time.Duration(float64(d) / s.scale) }
