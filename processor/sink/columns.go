package sink

import (
	"time"

	"github.com/teplokarta/teplokarta/internal/model"
)

// appealColumns lays a run out as insertAppeals' columns, in its order, each a typed slice the driver
// copies into its block in one step. Appending row by row boxed 33 values per row into interfaces and
// type-switched on each one again per column (BenchmarkWrite's client-cpu-µs/row and allocs/op).
func appealColumns(run []*model.Appeal, processed time.Time, version uint64) []any {
	n := len(run)
	var (
		id, source, sourceID, region, oktmo, municipality = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		category, theme, agency, text, address, url       = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		authorHash, status, incident, topic               = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		categoryConf, themeConf, agencyConf               = make([]float32, n), make([]float32, n), make([]float32, n)
		lat, lon                                          = make([]float64, n), make([]float64, n)
		attachments                                       = make([][]string, n)
		fingerprint, versions                             = make([]uint64, n), make([]uint64, n)
		eventTime, receivedTime, processedTime, deadline  = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		isIncident, isLate                                = make([]uint8, n), make([]uint8, n)
		partition, tzOffset                               = make([]int32, n), make([]int32, n)
		offset                                            = make([]int64, n)
	)
	for i, a := range run {
		id[i], source[i], sourceID[i], region[i], oktmo[i], municipality[i] = a.ID, a.Source, a.SourceID, a.Region, a.OKTMO, a.Municipality
		category[i], theme[i], agency[i], text[i], address[i], url[i] = a.Category, a.Theme, a.Agency, a.Text, a.Address, a.URL
		authorHash[i], status[i], incident[i], topic[i] = a.AuthorHash, a.Status, a.IncidentID, a.Origin.Topic
		categoryConf[i], themeConf[i], agencyConf[i] = a.CategoryConf, a.ThemeConf, a.AgencyConf
		lat[i], lon[i] = a.Lat, a.Lon
		attachments[i] = a.Attachments
		if attachments[i] == nil {
			attachments[i] = []string{}
		}
		fingerprint[i], versions[i] = a.Fingerprint, version
		eventTime[i], receivedTime[i], processedTime[i], deadline[i] = a.EventTime.UTC(), a.ReceivedTime.UTC(), processed, deadlineOrZero(a.Hints.Deadline)
		isIncident[i], isLate[i] = boolU8(a.IsIncident), boolU8(a.IsLate)
		partition[i], tzOffset[i] = int32(a.Origin.Partition), model.ZoneOffset(model.RegionLocation(a.Region), a.EventTime)
		offset[i] = a.Origin.Offset
	}
	return []any{id, source, sourceID, region, oktmo, municipality,
		category, categoryConf, theme, themeConf, agency, agencyConf, text, address, lat, lon, url, attachments,
		authorHash, fingerprint, eventTime, receivedTime, processedTime, status, incident, isIncident,
		isLate, topic, partition, offset, versions, deadline, tzOffset}
}
