package policy

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// CalendarConfig is the YAML form of a working calendar.
type CalendarConfig struct {
	Timezone string   `yaml:"timezone"` // IANA name; default Europe/Moscow (the ЦУР's local time)
	Workdays []string `yaml:"workdays"` // mon…sun; default mon–fri
	Start    string   `yaml:"start"`    // "09:00" by default
	End      string   `yaml:"end"`      // "18:00" by default
	Holidays []string `yaml:"holidays"` // "2026-01-01": non-working although a workday
	// ExtraWorkdays are weekend dates moved to working days by government decree ("перенос").
	ExtraWorkdays []string `yaml:"extra_workdays"`
}

// Calendar counts working time: configured weekdays between Start and End, minus holidays. The zero
// value is not usable; build it with NewCalendar.
type Calendar struct {
	loc        *time.Location
	workdays   [7]bool
	start, end time.Duration // offsets from local midnight
	holidays   map[string]bool
	extra      map[string]bool
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

func parseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("time of day %q: want HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

func dateSet(list []string, what string) (map[string]bool, error) {
	m := make(map[string]bool, len(list))
	for _, d := range list {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, fmt.Errorf("%s %q: want YYYY-MM-DD", what, d)
		}
		m[d] = true
	}
	return m, nil
}

// NewCalendar validates the config and applies the defaults (Mon–Fri 09:00–18:00 Moscow time).
func NewCalendar(c CalendarConfig) (*Calendar, error) {
	if c.Timezone == "" {
		c.Timezone = "Europe/Moscow"
	}
	if len(c.Workdays) == 0 {
		c.Workdays = []string{"mon", "tue", "wed", "thu", "fri"}
	}
	if c.Start == "" {
		c.Start = "09:00"
	}
	if c.End == "" {
		c.End = "18:00"
	}
	var errs []error
	cal := &Calendar{}
	var err error
	if cal.loc, err = time.LoadLocation(c.Timezone); err != nil {
		errs = append(errs, fmt.Errorf("calendar timezone: %w", err))
	}
	for _, d := range c.Workdays {
		wd, ok := weekdays[strings.ToLower(d)]
		if !ok {
			errs = append(errs, fmt.Errorf("calendar workday %q: want mon…sun", d))
			continue
		}
		cal.workdays[wd] = true
	}
	if cal.start, err = parseClock(c.Start); err != nil {
		errs = append(errs, err)
	}
	if cal.end, err = parseClock(c.End); err != nil {
		errs = append(errs, err)
	}
	if cal.start >= cal.end {
		errs = append(errs, fmt.Errorf("calendar: start %s must be before end %s", c.Start, c.End))
	}
	if cal.holidays, err = dateSet(c.Holidays, "holiday"); err != nil {
		errs = append(errs, err)
	}
	if cal.extra, err = dateSet(c.ExtraWorkdays, "extra workday"); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cal, nil
}

// working reports whether the local date of midnight is a working day.
func (c *Calendar) working(midnight time.Time) bool {
	key := midnight.Format(time.DateOnly)
	if c.extra[key] {
		return true
	}
	return c.workdays[midnight.Weekday()] && !c.holidays[key]
}

// maxDays bounds the search so that a calendar of holidays only cannot loop forever.
const maxDays = 3 * 366

// Add returns the instant when d of working time has passed after t. Time outside working hours does
// not count; an appeal received on Friday evening with 8 working hours is due Monday 17:00.
func (c *Calendar) Add(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	lt := t.In(c.loc)
	for range maxDays {
		midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, c.loc)
		if c.working(midnight) {
			open, shut := midnight.Add(c.start), midnight.Add(c.end)
			if lt.Before(open) {
				lt = open
			}
			if lt.Before(shut) {
				if avail := shut.Sub(lt); d <= avail {
					return lt.Add(d).UTC()
				} else {
					d -= avail
				}
			}
		}
		lt = time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, c.loc)
	}
	return lt.Add(d).UTC() // unreachable with a sane calendar; NewCalendar requires a workday
}
