package policy

import (
	"testing"
	"time"
)

func msk(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCalendarAdd(t *testing.T) {
	cal, err := NewCalendar(CalendarConfig{Holidays: []string{"2026-03-09"}, ExtraWorkdays: []string{"2026-03-14"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, from string
		d          time.Duration
		want       string
	}{
		{"within one day", "2026-03-10 10:00", 8 * time.Hour, "2026-03-10 18:00"},
		{"whole working day ends at closing", "2026-03-10 09:00", 9 * time.Hour, "2026-03-10 18:00"},
		{"before opening starts at 09:00", "2026-03-10 07:00", time.Hour, "2026-03-10 10:00"},
		{"after closing moves to next morning", "2026-03-10 19:00", time.Hour, "2026-03-11 10:00"},
		{"friday evening skips weekend and holiday monday", "2026-03-06 17:00", 8 * time.Hour, "2026-03-10 16:00"},
		{"sunday waits for monday", "2026-03-15 12:00", time.Hour, "2026-03-16 10:00"},
		{"extra working saturday counts", "2026-03-13 17:00", 2 * time.Hour, "2026-03-14 10:00"},
		{"zero duration is the start itself", "2026-03-15 12:00", 0, "2026-03-15 12:00"},
		{"spans several days", "2026-03-10 09:00", 27 * time.Hour, "2026-03-12 18:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := cal.Add(msk(t, c.from), c.d)
			if want := msk(t, c.want); !got.Equal(want) {
				t.Fatalf("Add(%s, %s) = %s, want %s", c.from, c.d, got.In(want.Location()).Format("2006-01-02 15:04 Mon"), c.want)
			}
		})
	}
}

func TestCalendarConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  CalendarConfig
	}{
		{"bad weekday", CalendarConfig{Workdays: []string{"funday"}}},
		{"start after end", CalendarConfig{Start: "18:00", End: "09:00"}},
		{"bad clock", CalendarConfig{Start: "9am"}},
		{"bad holiday", CalendarConfig{Holidays: []string{"01.01.2026"}}},
		{"bad zone", CalendarConfig{Timezone: "Mars/Olympus"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewCalendar(c.cfg); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}
