package sink

import "time"

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

// fill lays rows out in insertAppeals' column order and returns the columns; they are valid until the
// next fill or release.
func (c *columns) fill(rows run, processed time.Time, version uint64) []any {
	n := rows.len()
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
	k := 0
	rows.each(func(b *Block, i int) {
		c.id[k], c.sourceID[k], c.text[k], c.address[k] = b.wide(i, wideID), b.wide(i, wideSourceID), b.wide(i, wideText), b.wide(i, wideAddress)
		c.url[k], c.authorHash[k], c.incident[k] = b.wide(i, wideURL), b.wide(i, wideAuthorHash), b.wide(i, wideIncident)
		c.source[k], c.region[k], c.oktmo[k] = b.lowValue(i, lowSource), b.lowValue(i, lowRegion), b.lowValue(i, lowOKTMO)
		c.municipality[k], c.category[k], c.theme[k] = b.lowValue(i, lowMunicipality), b.lowValue(i, lowCategory), b.lowValue(i, lowTheme)
		c.agency[k], c.status[k], c.topic[k] = b.lowValue(i, lowAgency), b.lowValue(i, lowStatus), b.topic
		c.categoryConf[k], c.themeConf[k], c.agencyConf[k] = b.conf[3*i], b.conf[3*i+1], b.conf[3*i+2]
		c.lat[k], c.lon[k] = b.coords[2*i], b.coords[2*i+1]
		c.attachments[k] = b.attachments(i)
		if c.attachments[k] == nil {
			c.attachments[k] = []string{}
		}
		c.fingerprint[k], c.versions[k] = b.fingerprint[i], version
		c.eventTime[k], c.receivedTime[k] = time.Unix(b.eventTime[i], 0).UTC(), time.Unix(b.receivedTime[i], 0).UTC()
		c.processedTime[k], c.deadline[k] = processed, time.Unix(b.deadline[i], 0).UTC()
		c.isIncident[k], c.isLate[k] = b.flags[i]&flagIncident, b.flags[i]&flagLate>>1
		c.partition[k], c.tzOffset[k] = int32(b.partition), b.tzOffset[i]
		c.offset[k] = b.offset[i]
		k++
	})
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
