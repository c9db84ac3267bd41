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
	names     []uint32 // places the text names (see places)
	nums      []uint32 // house numbers the text names
	incident  string   // "" = the member is itself the incident
}

// placesFlag in the feature-count byte marks a record that carries places; records written before places
// existed lack it and are matched without the place check.
const placesFlag = 0x80

// encode: u32 event time | u16 size | u8 n|0x80 | n × u32 features | u8 names | u8 nums | (names+nums) ×
// u32 | incident id. Compact because one record lives in Redis per appeal inside the horizon.
func (m *member) encode() string {
	head := 7 + 4*len(m.feat)
	places := 2 + 4*(len(m.names)+len(m.nums))
	b := make([]byte, head+places+len(m.incident))
	binary.BigEndian.PutUint32(b, uint32(m.eventTime))
	binary.BigEndian.PutUint16(b[4:], uint16(min(m.size, 0xffff)))
	b[6] = byte(len(m.feat)) | placesFlag
	for i, f := range m.feat {
		binary.BigEndian.PutUint32(b[7+4*i:], f)
	}
	b[head], b[head+1] = byte(len(m.names)), byte(len(m.nums))
	for i, f := range append(m.names[:len(m.names):len(m.names)], m.nums...) {
		binary.BigEndian.PutUint32(b[head+2+4*i:], f)
	}
	copy(b[head+places:], m.incident)
	return string(b)
}

var errRecord = errors.New("dedup: malformed member record")

func decodeMember(s string) (member, error) {
	if len(s) < 7 {
		return member{}, errRecord
	}
	n := int(s[6] &^ placesFlag)
	head := 7 + 4*n
	if len(s) < head {
		return member{}, errRecord
	}
	m := member{
		eventTime: int64(binary.BigEndian.Uint32([]byte(s[:4]))),
		size:      int(binary.BigEndian.Uint16([]byte(s[4:6]))),
		feat:      make([]uint32, n),
		incident:  s[head:],
	}
	for i := range m.feat {
		m.feat[i] = binary.BigEndian.Uint32([]byte(s[7+4*i : 11+4*i]))
	}
	if s[6]&placesFlag != 0 {
		if len(s) < head+2 {
			return member{}, errRecord
		}
		nn, nu := int(s[head]), int(s[head+1])
		end := head + 2 + 4*(nn+nu)
		if len(s) < end {
			return member{}, errRecord
		}
		all := make([]uint32, nn+nu)
		for i := range all {
			all[i] = binary.BigEndian.Uint32([]byte(s[head+2+4*i : head+6+4*i]))
		}
		m.names, m.nums, m.incident = all[:nn:nn], all[nn:], s[end:]
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
