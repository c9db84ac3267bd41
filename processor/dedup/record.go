package dedup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// member is what the dedup state remembers of an appeal that took part in near-duplicate matching: its
// event time (to apply the horizon), its incident, and a sketch of its stems (to verify LSH candidates).
type member struct {
	eventTime int64 // unix seconds
	size      int   // distinct stems of the whole text
	feat      []uint32
	incident  string // "" = the member is itself the incident
}

// encode: u32 event time | u16 size | u8 n | n × u32 features | incident id. Compact because one record
// lives in Redis per appeal inside the horizon.
func (m *member) encode() string {
	b := make([]byte, 7+4*len(m.feat)+len(m.incident))
	binary.BigEndian.PutUint32(b, uint32(m.eventTime))
	binary.BigEndian.PutUint16(b[4:], uint16(min(m.size, 0xffff)))
	b[6] = byte(len(m.feat))
	for i, f := range m.feat {
		binary.BigEndian.PutUint32(b[7+4*i:], f)
	}
	copy(b[7+4*len(m.feat):], m.incident)
	return string(b)
}

var errRecord = errors.New("dedup: malformed member record")

func decodeMember(s string) (member, error) {
	if len(s) < 7 {
		return member{}, errRecord
	}
	n := int(s[6])
	if len(s) < 7+4*n {
		return member{}, errRecord
	}
	m := member{
		eventTime: int64(binary.BigEndian.Uint32([]byte(s[:4]))),
		size:      int(binary.BigEndian.Uint16([]byte(s[4:6]))),
		feat:      make([]uint32, n),
		incident:  s[7+4*n:],
	}
	for i := range m.feat {
		m.feat[i] = binary.BigEndian.Uint32([]byte(s[7+4*i : 11+4*i]))
	}
	return m, nil
}

// incidentOf resolves the member's incident id.
func (m *member) incidentOf(id string) string {
	if m.incident == "" {
		return id
	}
	return m.incident
}

// encodeClaim is the value of an id claim: "<topic/partition/offset>|<kind>|<incident id>". Kafka topic
// names cannot contain '|', so the first '|' ends the origin whatever the ids contain.
func encodeClaim(origin string, d Decision) string {
	return origin + "|" + strconv.Itoa(int(d.Kind)) + "|" + d.IncidentID
}

func decodeClaim(v string) (origin string, d Decision, err error) {
	origin, rest, ok := strings.Cut(v, "|")
	if !ok {
		return "", Decision{}, fmt.Errorf("dedup: malformed id claim %q", v)
	}
	kind, inc, ok := strings.Cut(rest, "|")
	k, err := strconv.Atoi(kind)
	if !ok || err != nil || k < int(Incident) || k > int(ExactDuplicate) {
		return "", Decision{}, fmt.Errorf("dedup: malformed id claim %q", v)
	}
	return origin, Decision{Kind: Kind(k), IncidentID: inc}, nil
}
