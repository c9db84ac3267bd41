package model

import (
	"testing"
	"time"
)

func TestRegionCalendar(t *testing.T) {
	msk := RegionLocation(DefaultRegion)
	newYear := time.Date(2026, 12, 31, 21, 30, 0, 0, time.UTC) // 00:30 MSK, 1 January 2027
	mid := time.Date(2026, 12, 31, 21, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name      string
		got, want time.Time
	}{
		{"day", LocalDay(newYear, msk), mid},
		{"month", LocalMonth(newYear, msk), mid},
		{"year", LocalYear(newYear, msk), mid},
		{"day floor", Floor(newYear, 24*time.Hour, msk), mid},
		{"hour floor", Floor(newYear, time.Hour, msk), mid},
		{"minute floor", Floor(newYear.Add(59*time.Second), time.Minute, msk), newYear},
		{"last second of the old year", LocalYear(mid.Add(-time.Second), msk), time.Date(2025, 12, 31, 21, 0, 0, 0, time.UTC)},
		{"month of 2027-02-01 01:00 MSK", LocalMonth(time.Date(2027, 1, 31, 22, 0, 0, 0, time.UTC), msk), time.Date(2027, 1, 31, 21, 0, 0, 0, time.UTC)},
		{"day in UTC", LocalDay(newYear, time.UTC), time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)},
	} {
		if !c.got.Equal(c.want) {
			t.Errorf("%s: %s, want %s", c.name, c.got, c.want)
		}
	}
	if off := ZoneOffset(msk, newYear); off != 10800 {
		t.Errorf("offset %d, want 10800", off)
	}
	if RegionZone("RU-XXX") != DefaultZone || RegionZone("RU-SVE") != "Asia/Yekaterinburg" {
		t.Error("region zones")
	}
}
