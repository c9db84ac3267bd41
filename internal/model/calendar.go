package model

import (
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // a Grafana container or a scratch image may have no zoneinfo; the region's zone must load anyway
)

// DefaultZone is the IANA time zone of the default region (Ryazan oblast: Moscow time, UTC+3 without DST
// since 2014). Days, months and years of every count are the region's, not UTC's.
const DefaultZone = "Europe/Moscow"

// RegionZones is the region setting of the calendar: the IANA time zone of each region (ISO 3166-2). A
// region missing here uses DefaultZone. The processor stamps every appeals row with the offset of its
// region's zone at the event (tz_offset, migration 0012); readers use the same zone.
var RegionZones = map[string]string{
	"RU-RYA": "Europe/Moscow",
	"RU-MOW": "Europe/Moscow",
	"RU-SPE": "Europe/Moscow",
	"RU-TUL": "Europe/Moscow",
	"RU-VLA": "Europe/Moscow",
	"RU-SAM": "Europe/Samara",
	"RU-SVE": "Asia/Yekaterinburg",
	"RU-NVS": "Asia/Novosibirsk",
	"RU-KGD": "Europe/Kaliningrad",
}

// RegionZone is the IANA zone name of region.
func RegionZone(region string) string {
	if z, ok := RegionZones[region]; ok {
		return z
	}
	return DefaultZone
}

// locs caches loaded zones: every stored row and live window asks, from many partition goroutines.
var locs sync.Map // name → *time.Location

// LoadZone loads an IANA zone once (time.LoadLocation reads and parses a file each call).
func LoadZone(name string) (*time.Location, error) {
	if l, ok := locs.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	locs.Store(name, l)
	return l, nil
}

// RegionLocation is region's zone. The table above holds valid names and tzdata is embedded, so a failure
// is a build defect.
func RegionLocation(region string) *time.Location {
	l, err := LoadZone(RegionZone(region))
	if err != nil {
		panic(err)
	}
	return l
}

// ZoneOffset is the offset of loc at t in seconds east of UTC: the appeals column tz_offset.
func ZoneOffset(loc *time.Location, t time.Time) int32 {
	_, off := t.In(loc).Zone()
	return int32(off)
}

// LocalDay is the UTC instant of the local midnight that starts t's day in loc. It is the arithmetic of the
// day rollups' window_start (shift by the offset at t, truncate, shift back), so Go and ClickHouse agree
// even across a DST change.
func LocalDay(t time.Time, loc *time.Location) time.Time {
	off := int64(ZoneOffset(loc, t))
	u := t.Unix() + off
	return time.Unix(u-((u%86400)+86400)%86400-off, 0).UTC()
}

// LocalMonth is the UTC instant of the local first of t's month in loc (the month rollup's window_start).
func LocalMonth(t time.Time, loc *time.Location) time.Time {
	off := int64(ZoneOffset(loc, t))
	s := t.Add(time.Duration(off) * time.Second).UTC()
	return time.Date(s.Year(), s.Month(), 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(off) * time.Second)
}

// LocalYear is the UTC instant of the local 1 January of t's year in loc.
func LocalYear(t time.Time, loc *time.Location) time.Time {
	off := int64(ZoneOffset(loc, t))
	s := t.Add(time.Duration(off) * time.Second).UTC()
	return time.Date(s.Year(), 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(off) * time.Second)
}

// Floor rounds t down to a multiple of d counted from a local midnight in loc: for d dividing a day or
// a whole number of days, the window t falls in (minute and hour windows are the UTC ones for zones with
// whole-hour offsets).
func Floor(t time.Time, d time.Duration, loc *time.Location) time.Time {
	s := int64(d / time.Second)
	off := int64(ZoneOffset(loc, t))
	u := t.Unix() + off
	return time.Unix(u-((u%s)+s)%s-off, 0).UTC()
}
