package sink

import (
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
)

// columns holds insertAppeals' columns, each a typed slice the driver copies into its block in one step.
// Appending row by row boxed 33 values per row into interfaces and type-switched on each one again per
// column (BenchmarkWrite's client-cpu-µs/row and allocs/op). The slices are kept for the next block: the
// driver copies what it is given, and a block's 33 new slices were a twentieth of the processor's
// allocations.
type columns struct {
	id, source, sourceID, region, oktmo, municipality []string
	category, theme, agency, text, address, url       []string
	authorHash, status, incident, topic               []string
	categoryConf, themeConf, agencyConf               []float32
	lat, lon                                          []float64
	attachments                                       [][]string
	fingerprint, versions                             []uint64
	eventTime, receivedTime, processedTime, deadline  []time.Time
	isIncident, isLate                                []uint8
	partition, tzOffset                               []int32
	offset                                            []int64
}

// resize returns s with length n, reusing its array when it is big enough.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// fill lays a block out in insertAppeals' column order and returns the columns; they are valid until the
// next fill or release.
func (c *columns) fill(block []*model.Appeal, processed time.Time, version uint64) []any {
	n := len(block)
	for _, s := range []*[]string{&c.id, &c.source, &c.sourceID, &c.region, &c.oktmo, &c.municipality, &c.category,
		&c.theme, &c.agency, &c.text, &c.address, &c.url, &c.authorHash, &c.status, &c.incident, &c.topic} {
		*s = resize(*s, n)
	}
	for _, s := range []*[]float32{&c.categoryConf, &c.themeConf, &c.agencyConf} {
		*s = resize(*s, n)
	}
	for _, s := range []*[]time.Time{&c.eventTime, &c.receivedTime, &c.processedTime, &c.deadline} {
		*s = resize(*s, n)
	}
	c.lat, c.lon = resize(c.lat, n), resize(c.lon, n)
	c.attachments = resize(c.attachments, n)
	c.fingerprint, c.versions = resize(c.fingerprint, n), resize(c.versions, n)
	c.isIncident, c.isLate = resize(c.isIncident, n), resize(c.isLate, n)
	c.partition, c.tzOffset = resize(c.partition, n), resize(c.tzOffset, n)
	c.offset = resize(c.offset, n)
	for i, a := range block {
		c.id[i], c.source[i], c.sourceID[i], c.region[i], c.oktmo[i], c.municipality[i] = a.ID, a.Source, a.SourceID, a.Region, a.OKTMO, a.Municipality
		c.category[i], c.theme[i], c.agency[i], c.text[i], c.address[i], c.url[i] = a.Category, a.Theme, a.Agency, a.Text, a.Address, a.URL
		c.authorHash[i], c.status[i], c.incident[i], c.topic[i] = a.AuthorHash, a.Status, a.IncidentID, a.Origin.Topic
		c.categoryConf[i], c.themeConf[i], c.agencyConf[i] = a.CategoryConf, a.ThemeConf, a.AgencyConf
		c.lat[i], c.lon[i] = a.Lat, a.Lon
		c.attachments[i] = a.Attachments
		if c.attachments[i] == nil {
			c.attachments[i] = []string{}
		}
		c.fingerprint[i], c.versions[i] = a.Fingerprint, version
		c.eventTime[i], c.receivedTime[i], c.processedTime[i], c.deadline[i] = a.EventTime.UTC(), a.ReceivedTime.UTC(), processed, deadlineOrZero(a.Hints.Deadline)
		c.isIncident[i], c.isLate[i] = boolU8(a.IsIncident), boolU8(a.IsLate)
		c.partition[i], c.tzOffset[i] = int32(a.Origin.Partition), model.ZoneOffset(model.RegionLocation(a.Region), a.EventTime)
		c.offset[i] = a.Origin.Offset
	}
	return []any{c.id, c.source, c.sourceID, c.region, c.oktmo, c.municipality,
		c.category, c.categoryConf, c.theme, c.themeConf, c.agency, c.agencyConf, c.text, c.address, c.lat, c.lon, c.url,
		c.attachments, c.authorHash, c.fingerprint, c.eventTime, c.receivedTime, c.processedTime, c.status, c.incident,
		c.isIncident, c.isLate, c.topic, c.partition, c.offset, c.versions, c.deadline, c.tzOffset}
}

// release drops the references the columns hold, so that kept columns keep no appeal's strings alive.
func (c *columns) release() {
	for _, s := range []*[]string{&c.id, &c.source, &c.sourceID, &c.region, &c.oktmo, &c.municipality, &c.category,
		&c.theme, &c.agency, &c.text, &c.address, &c.url, &c.authorHash, &c.status, &c.incident, &c.topic} {
		clear((*s)[:cap(*s)])
	}
	clear(c.attachments[:cap(c.attachments)])
}
