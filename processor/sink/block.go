package sink

import (
	"encoding/binary"
	"time"
	"unsafe"

	"github.com/teplokarta/teplokarta/internal/model"
)

// Block is a batch's rows (consecutive appeals of one Kafka partition) held as the columns of their
// INSERT, from the moment the batch is handed to the sink until it is stored. A batch waits there for its
// round while its partition prepares the next ones (up to --max-unstored rows across partitions): as
// appeals that was a struct of 35 fields per row, a dozen strings allocated one by one, and the
// source's hints nothing stores, all traced by the garbage collector on every cycle. A Block holds no
// pointer per row: the strings of a row lie in one arena, the few values of low-cardinality columns
// (source, region, municipality, category…) are listed once per block, and the rest are plain numbers.
// BenchmarkCarriedRows weighs both. A Block never changes once built, so the sink's rounds and the
// batch's committer read it concurrently.
type Block struct {
	topic     string
	partition int
	n         int

	arena []byte // the rows' free-text strings (the wide columns), row by row
	ends  []int  // ends[i*numWide+c]: where row i's wide column c ends in arena

	dict []string // the low-cardinality columns' distinct values
	low  []uint32 // low[i*numLow+c]: row i's value of low column c, an index in dict

	conf                              []float32 // category, theme and agency confidences, 3 per row
	coords                            []float64 // lat, lon, 2 per row
	fingerprint                       []uint64
	offset                            []int64
	eventTime, receivedTime, deadline []int64 // unix seconds (DateTime's precision); deadline as stored
	tzOffset, month                   []int32
	flags                             []uint8 // flagIncident | flagLate
}

// The wide columns: strings nearly unique per row, kept in the arena.
const (
	wideID = iota
	wideSourceID
	wideText
	wideAddress
	wideURL
	wideAuthorHash
	wideIncident
	wideAttachments // count, then each attachment's length and bytes, as uvarints
	numWide
)

// The low-cardinality columns: values from small sets (sources, regions, municipalities, the model's
// labels), listed once per block. A source may state any OKTMO, so a block does not count on few.
const (
	lowSource = iota
	lowRegion
	lowOKTMO
	lowMunicipality
	lowCategory
	lowTheme
	lowAgency
	lowStatus
	numLow
)

const (
	flagIncident = 1 << iota
	flagLate
)

// NewBlock lays out rows, consecutive appeals of one partition, as a Block. Only what the sink stores
// is kept.
func NewBlock(rows []*model.Appeal) *Block {
	n := len(rows)
	b := &Block{n: n, ends: make([]int, 0, n*numWide), low: make([]uint32, 0, n*numLow),
		conf: make([]float32, 0, 3*n), coords: make([]float64, 0, 2*n), fingerprint: make([]uint64, n),
		offset: make([]int64, n), eventTime: make([]int64, n), receivedTime: make([]int64, n), deadline: make([]int64, n),
		tzOffset: make([]int32, n), month: make([]int32, n), flags: make([]uint8, n)}
	if n == 0 {
		return b
	}
	b.topic, b.partition = rows[0].Origin.Topic, rows[0].Origin.Partition
	size := 0
	for _, a := range rows {
		size += len(a.ID) + len(a.SourceID) + len(a.Text) + len(a.Address) + len(a.URL) + len(a.AuthorHash) + len(a.IncidentID) + 1
		for _, att := range a.Attachments {
			size += len(att) + 2
		}
	}
	b.arena = make([]byte, 0, size)
	index := map[string]uint32{}
	for i, a := range rows {
		for _, s := range [numWide - 1]string{a.ID, a.SourceID, a.Text, a.Address, a.URL, a.AuthorHash, a.IncidentID} {
			b.arena = append(b.arena, s...)
			b.ends = append(b.ends, len(b.arena))
		}
		b.arena = binary.AppendUvarint(b.arena, uint64(len(a.Attachments)))
		for _, att := range a.Attachments {
			b.arena = binary.AppendUvarint(b.arena, uint64(len(att)))
			b.arena = append(b.arena, att...)
		}
		b.ends = append(b.ends, len(b.arena))
		for _, s := range [numLow]string{a.Source, a.Region, a.OKTMO, a.Municipality, a.Category, a.Theme, a.Agency, a.Status} {
			k, ok := index[s]
			if !ok {
				k = uint32(len(b.dict))
				index[s] = k
				b.dict = append(b.dict, s)
			}
			b.low = append(b.low, k)
		}
		b.conf = append(b.conf, a.CategoryConf, a.ThemeConf, a.AgencyConf)
		b.coords = append(b.coords, a.Lat, a.Lon)
		b.fingerprint[i], b.offset[i] = a.Fingerprint, a.Origin.Offset
		b.eventTime[i], b.receivedTime[i], b.deadline[i] = a.EventTime.Unix(), a.ReceivedTime.Unix(), deadlineOrZero(a.Hints.Deadline).Unix()
		b.tzOffset[i] = model.ZoneOffset(model.RegionLocation(a.Region), a.EventTime)
		b.month[i] = int32(month(a.EventTime))
		if a.IsIncident {
			b.flags[i] |= flagIncident
		}
		if a.IsLate {
			b.flags[i] |= flagLate
		}
	}
	return b
}

// Len is the number of rows.
func (b *Block) Len() int { return b.n }

// EventTime is row i's event time, to the second as stored.
func (b *Block) EventTime(i int) time.Time { return time.Unix(b.eventTime[i], 0).UTC() }

// Source is row i's source.
func (b *Block) Source(i int) string { return b.lowValue(i, lowSource) }

// Region is row i's region.
func (b *Block) Region(i int) string { return b.lowValue(i, lowRegion) }

// Incident and Late are row i's flags.
func (b *Block) Incident(i int) bool { return b.flags[i]&flagIncident != 0 }
func (b *Block) Late(i int) bool     { return b.flags[i]&flagLate != 0 }

func (b *Block) lowValue(i, c int) string { return b.dict[b.low[i*numLow+c]] }

// wideBytes is row i's wide column c in the arena.
func (b *Block) wideBytes(i, c int) []byte {
	k := i*numWide + c
	start := 0
	if k > 0 {
		start = b.ends[k-1]
	}
	return b.arena[start:b.ends[k]]
}

// wide is row i's wide column c: a string sharing the arena's bytes, which never change once the block is
// built (the driver copies what it is given, so nothing keeps the arena past the INSERT but the block).
func (b *Block) wide(i, c int) string {
	w := b.wideBytes(i, c)
	if len(w) == 0 {
		return ""
	}
	return unsafe.String(&w[0], len(w))
}

// attachments decodes row i's attachments (nil for none).
func (b *Block) attachments(i int) []string {
	w := b.wideBytes(i, wideAttachments)
	count, k := binary.Uvarint(w)
	if count == 0 {
		return nil
	}
	out := make([]string, count)
	w = w[k:]
	for j := range out {
		l, k := binary.Uvarint(w)
		if l > 0 {
			out[j] = unsafe.String(&w[k], int(l))
		}
		w = w[k+int(l):]
	}
	return out
}

// month is the year and month of t in UTC as one number.
func month(t time.Time) int { y, m, _ := t.UTC().Date(); return y*12 + int(m) }
