// Package policy decides an appeal's deadline and its at-risk moment: received + 8 h by default, or a
// duration configured per source and category, counted in calendar time or in working hours of a
// holiday calendar. It is pure computation; the SLA engine calls it when an appeal is created or reopened.
package policy

import (
	"errors"
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

// Rule overrides the default duration for a source, a category or both ("" matches any).
type Rule struct {
	Source       string        `yaml:"source"`
	Category     string        `yaml:"category"`
	Duration     time.Duration `yaml:"duration"`
	WorkingHours *bool         `yaml:"working_hours"` // nil: inherit Config.WorkingHours
}

// Config is deploy/sla.yaml.
type Config struct {
	Default      time.Duration  `yaml:"default"`        // default 8h: the ЦУР's promise
	AtRiskBefore time.Duration  `yaml:"at_risk_before"` // default 2h; the notice fires at deadline − this
	WorkingHours bool           `yaml:"working_hours"`  // count durations in working hours; default false
	Calendar     CalendarConfig `yaml:"calendar"`
	Rules        []Rule         `yaml:"rules"`
}

// DefaultConfig is 8 calendar hours for everything, at-risk 2 h before.
func DefaultConfig() Config { return Config{Default: 8 * time.Hour, AtRiskBefore: 2 * time.Hour} }

// Validate reports every mistake at once.
func (c Config) Validate() error {
	var errs []error
	if c.Default <= 0 {
		errs = append(errs, fmt.Errorf("sla policy: default duration %s must be positive", c.Default))
	}
	if c.AtRiskBefore < 0 {
		errs = append(errs, fmt.Errorf("sla policy: at_risk_before %s must not be negative", c.AtRiskBefore))
	}
	for i, r := range c.Rules {
		if r.Duration <= 0 {
			errs = append(errs, fmt.Errorf("sla policy: rule %d (%s/%s): duration must be positive", i+1, r.Source, r.Category))
		}
	}
	if _, err := NewCalendar(c.Calendar); err != nil {
		errs = append(errs, fmt.Errorf("sla policy: %w", err))
	}
	return errors.Join(errs...)
}

// Load reads a YAML policy file; missing fields keep DefaultConfig's values.
func Load(path string) (Config, error) {
	c := DefaultConfig()
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("sla policy: %w", err)
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("sla policy %s: %w", path, err)
	}
	return c, c.Validate()
}

// Policy computes deadlines.
type Policy struct {
	cfg Config
	cal *Calendar
}

// New validates c and builds its calendar.
func New(c Config) (*Policy, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	cal, _ := NewCalendar(c.Calendar) // validated above
	return &Policy{cfg: c, cal: cal}, nil
}

// rule returns the most specific matching rule (source+category over category over source); earlier
// rules win ties, so a file reads top-down.
func (p *Policy) rule(source, category string) (time.Duration, bool) {
	d, wh, best := p.cfg.Default, p.cfg.WorkingHours, 0
	for _, r := range p.cfg.Rules {
		if (r.Source != "" && r.Source != source) || (r.Category != "" && r.Category != category) {
			continue
		}
		score := 1
		if r.Category != "" {
			score += 2
		}
		if r.Source != "" {
			score++
		}
		if score > best {
			best, d, wh = score, r.Duration, p.cfg.WorkingHours
			if r.WorkingHours != nil {
				wh = *r.WorkingHours
			}
		}
	}
	return d, wh
}

// Deadline is when an appeal from source in category, started at from, must be resolved.
func (p *Policy) Deadline(from time.Time, source, category string) time.Time {
	d, wh := p.rule(source, category)
	if wh {
		return p.cal.Add(from, d)
	}
	return from.Add(d).UTC()
}

// AtRisk is when the "deadline is near" notice fires.
func (p *Policy) AtRisk(deadline time.Time) time.Time { return deadline.Add(-p.cfg.AtRiskBefore) }

// WorkingHours reports whether deadlines of appeals from source in category count working hours only
// (the simulated executors then work in the calendar's hours too).
func (p *Policy) WorkingHours(source, category string) bool {
	_, wh := p.rule(source, category)
	return wh
}

// Calendar is the policy's working-hours calendar.
func (p *Policy) Calendar() *Calendar { return p.cal }
