package model

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// The enriched record: how an appeal travels on appeals.enriched between the processor's two stages
// (docs/deduplication.md, "Partition-local state"). Binary rather than JSON because the hop is paid per
// appeal: BenchmarkEnrichedHop measured 19 µs against 45–52 and 590 bytes against 1,089. Strings are
// length-prefixed, integers varints, times Unix nanoseconds with their zone's offset, floats their bits.
// The first byte is the format's version; a reader refuses any other.
const enrichedVersion = 1

// ErrBadEnriched: a record that is not an enriched appeal of this format.
var ErrBadEnriched = errors.New("enriched appeal: malformed record")

// AppendEnriched appends a's enriched record to dst.
func AppendEnriched(dst []byte, a *Appeal) []byte {
	dst = append(dst, enrichedVersion)
	str := func(v string) { dst = binary.AppendUvarint(dst, uint64(len(v))); dst = append(dst, v...) }
	tm := func(t time.Time) {
		if t.IsZero() {
			dst = append(dst, 0)
			return
		}
		_, off := t.Zone()
		dst = append(dst, 1)
		dst = binary.AppendVarint(dst, t.UnixNano())
		dst = binary.AppendVarint(dst, int64(off))
	}
	for _, v := range a.stringFields() {
		str(*v)
	}
	dst = binary.AppendUvarint(dst, uint64(len(a.Attachments)))
	for _, v := range a.Attachments {
		str(v)
	}
	tm(a.EventTime)
	tm(a.ReceivedTime)
	tm(a.Hints.Deadline)
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(a.Lat))
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(a.Lon))
	for _, f := range []float32{a.CategoryConf, a.ThemeConf, a.AgencyConf} {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(f))
	}
	dst = binary.LittleEndian.AppendUint64(dst, a.Fingerprint)
	var flags byte
	if a.IsIncident {
		flags |= 1
	}
	if a.IsLate {
		flags |= 2
	}
	dst = append(dst, flags)
	dst = binary.AppendVarint(dst, int64(a.Origin.Partition))
	return binary.AppendVarint(dst, a.Origin.Offset)
}

// stringFields lists the appeal's string fields in the record's order.
func (a *Appeal) stringFields() []*string {
	return []*string{&a.ID, &a.Source, &a.SourceID, &a.Region, &a.Text, &a.Address, &a.URL, &a.AuthorHash, &a.OKTMO,
		&a.Municipality, &a.Category, &a.Theme, &a.Agency, &a.IncidentID, &a.Status, &a.Origin.Topic,
		&a.Hints.OKTMO, &a.Hints.Municipality, &a.Hints.Category, &a.Hints.Theme, &a.Hints.Agency, &a.Hints.Status,
		&a.Hints.Lead}
}

// ReadEnriched decodes an enriched record into a (overwriting every field).
func ReadEnriched(v []byte, a *Appeal) error {
	*a = Appeal{}
	if len(v) == 0 || v[0] != enrichedVersion {
		return fmt.Errorf("%w: not format version %d", ErrBadEnriched, enrichedVersion)
	}
	// One string holds all of the record's bytes, and every string field is a part of it: one allocation
	// per record instead of one per field. A field kept longer than the appeal keeps the record alive
	// with it; the processor copies what it keeps (the dedup state's arena, the sink's columns).
	r := enrichedReader{v: v[1:], s: string(v[1:])}
	for _, p := range a.stringFields() {
		*p = r.str()
	}
	if n := r.uvarint(); n > 0 {
		if n > uint64(len(r.v)) { // each attachment takes a byte at least
			return fmt.Errorf("%w: %d attachments in %d bytes", ErrBadEnriched, n, len(r.v))
		}
		a.Attachments = make([]string, n)
		for i := range a.Attachments {
			a.Attachments[i] = r.str()
		}
	}
	a.EventTime, a.ReceivedTime, a.Hints.Deadline = r.time(), r.time(), r.time()
	fixed := r.take(8 + 8 + 12 + 8 + 1)
	if fixed == nil {
		return fmt.Errorf("%w: truncated", ErrBadEnriched)
	}
	a.Lat = math.Float64frombits(binary.LittleEndian.Uint64(fixed))
	a.Lon = math.Float64frombits(binary.LittleEndian.Uint64(fixed[8:]))
	a.CategoryConf = math.Float32frombits(binary.LittleEndian.Uint32(fixed[16:]))
	a.ThemeConf = math.Float32frombits(binary.LittleEndian.Uint32(fixed[20:]))
	a.AgencyConf = math.Float32frombits(binary.LittleEndian.Uint32(fixed[24:]))
	a.Fingerprint = binary.LittleEndian.Uint64(fixed[28:])
	a.IsIncident, a.IsLate = fixed[36]&1 != 0, fixed[36]&2 != 0
	a.Origin.Partition = int(r.varint())
	a.Origin.Offset = r.varint()
	switch {
	case r.bad:
		return fmt.Errorf("%w: truncated", ErrBadEnriched)
	case len(r.v) > 0:
		return fmt.Errorf("%w: %d bytes after the record", ErrBadEnriched, len(r.v))
	}
	return nil
}

// enrichedReader reads a record front to back; once anything was missing, bad is set and every read
// returns zero.
type enrichedReader struct {
	v   []byte
	s   string // the record as read from v's start: str's fields are its parts
	bad bool
}

func (r *enrichedReader) fail() { r.v, r.bad = nil, true }

func (r *enrichedReader) take(n int) []byte {
	if r.bad || len(r.v) < n {
		r.fail()
		return nil
	}
	b := r.v[:n]
	r.v = r.v[n:]
	return b
}

func (r *enrichedReader) uvarint() uint64 {
	x, n := binary.Uvarint(r.v)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.v = r.v[n:]
	return x
}

func (r *enrichedReader) varint() int64 {
	x, n := binary.Varint(r.v)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.v = r.v[n:]
	return x
}

func (r *enrichedReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.v)) {
		r.fail()
		return ""
	}
	off := len(r.s) - len(r.v)
	if r.take(int(n)) == nil && n > 0 {
		return ""
	}
	return r.s[off : off+int(n)]
}

func (r *enrichedReader) time() time.Time {
	b := r.take(1)
	if b == nil || b[0] == 0 {
		return time.Time{}
	}
	ns, off := r.varint(), r.varint()
	if r.bad {
		return time.Time{}
	}
	t := time.Unix(0, ns)
	if off == 0 {
		return t.UTC()
	}
	return t.In(time.FixedZone("", int(off)))
}
