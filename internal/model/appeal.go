// Package model holds the types that flow between teplokarta's stages. Stages never import each other
// sideways; they exchange these types only.
package model

import (
	"fmt"
	"time"
)

// MaxDateTime is the last second ClickHouse's DateTime holds (2106-02-07 06:28:15 UTC): a time after it
// fits no column.
var MaxDateTime = time.Unix(1<<32-1, 0).UTC()

// Well-known sources. Generic sources configured in YAML use their own names.
const (
	SourceVK      = "vk"
	SourceNashDom = "nashdom"
	Source112     = "112"
	SourcePOS     = "pos"
)

// KnownSources lists the four built-in source systems.
var KnownSources = []string{SourceVK, SourceNashDom, Source112, SourcePOS}

// DefaultRegion is the ISO 3166-2 code of the default deployment's region (Ryazan oblast).
const DefaultRegion = "RU-RYA"

// Unresolved is the municipality name of appeals whose place could not be determined. They are stored
// and counted under an empty OKTMO, never dropped.
const Unresolved = "не определено"

// StatusNew is the status every appeal is created with; the SLA engine moves it on.
const StatusNew = "new"

// Offset identifies the Kafka message a row came from; the sink's progress record.
type Offset struct {
	Topic     string
	Partition int
	Offset    int64
}

func (o Offset) String() string { return fmt.Sprintf("%s/%d/%d", o.Topic, o.Partition, o.Offset) }

// Appeal is one normalized citizen appeal. Parsers fill the source fields (Source … Hints); later stages
// fill classification, place, dedup and lateness.
type Appeal struct {
	ID       string // "<source>:<source_id>", unique across sources
	Source   string
	SourceID string
	Region   string

	Text        string // personal data masked before anything is stored
	Address     string
	Lat, Lon    float64 // 0,0 = unknown
	URL         string
	Attachments []string
	AuthorHash  string // salted hash of the author/caller; never the raw identity

	EventTime    time.Time // when the citizen wrote it (source time), drives windows
	ReceivedTime time.Time // when ingest accepted it

	Hints Hints // what the source itself says about place and topic

	OKTMO        string
	Municipality string

	Category, Theme, Agency             string
	CategoryConf, ThemeConf, AgencyConf float32

	Fingerprint uint64 // content fingerprint of the normalized text
	IncidentID  string // ID of the incident this appeal is a voice of (itself for incidents)
	IsIncident  bool
	IsLate      bool // arrived after its window's watermark: a correction of a closed window

	Status string
	Origin Offset
}

// Hints are fields a source may carry that settle place or topic without guessing.
type Hints struct {
	OKTMO        string
	Municipality string // a name as the source wrote it: "Шиловский район", "г. Сасово"
	Category     string
	Theme        string
	Agency       string
	Deadline     time.Time
	Status       string
	// Lead is what the source put before the citizen's words in Text (a 112 card's incident type and
	// ". "): deduplication also matches the text without it, as other channels carry it.
	Lead string
}

// AppealID builds the cross-source unique id.
func AppealID(source, sourceID string) string { return source + ":" + sourceID }

// Scope names what deduplication compares an appeal with: its region and municipality (an unresolved one
// is its region's own scope). appeals.enriched is keyed by it.
func Scope(region, oktmo string) string { return region + ":" + oktmo }
