package model

// Kafka header names carried by every raw message. Ingest writes them; the processor reads them.
const (
	HeaderSource        = "source"
	HeaderReceivedAt    = "received_at" // RFC 3339 with nanoseconds, UTC
	HeaderContentType   = "content_type"
	HeaderSchemaVersion = "schema_version"
	HeaderReason        = "reason"         // dead letters: why it was rejected
	HeaderStage         = "stage"          // dead letters: ingest | processor
	HeaderOrigin        = "origin"         // dead letters from the processor: topic/partition/offset
	HeaderTruncated     = "truncated_from" // dead letters cut to fit a record batch: the original size in bytes
	SchemaVersion       = "1"
)

// Topic names. Raw topics are one per source: appeals.raw.<source>.
const (
	RawTopicPrefix = "appeals.raw."
	TopicDLQ       = "appeals.dlq"
	TopicStatus    = "appeals.status"
	TopicSLA       = "appeals.sla"
	TopicWindows   = "appeals.windows"
	// TopicEnriched carries processed appeals between the processor's two stages, keyed by scope
	// ("<region>:<oktmo>"), when the dedup state lives with its partitions (--dedup-state partition).
	TopicEnriched = "appeals.enriched"
)

// RawTopic is the raw topic of a source.
func RawTopic(source string) string { return RawTopicPrefix + source }

// SourceOfTopic returns the source of a raw topic, or "" if the topic is not a raw one.
func SourceOfTopic(topic string) string {
	if len(topic) > len(RawTopicPrefix) && topic[:len(RawTopicPrefix)] == RawTopicPrefix {
		return topic[len(RawTopicPrefix):]
	}
	return ""
}
