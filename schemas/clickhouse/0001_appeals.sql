-- One row per appeal message that survived exact deduplication. Near/cross-source duplicates are kept as
-- "voices" of their incident (is_incident = 0, incident_id = the first claimant's appeal_id), so analytics
-- can count incidents or voices. The processor inserts every row exactly once: it resumes each Kafka
-- partition after max(kafka_offset) found here. ReplacingMergeTree collapses an accidental repeat in this
-- table; the rollups below rely on the resume rule, not on merges.
CREATE TABLE IF NOT EXISTS appeals
(
    appeal_id       String,
    source          String,
    source_id       String,
    region          String,
    oktmo           String,
    municipality    String,
    category        String,
    category_conf   Float32,
    theme           String,
    theme_conf      Float32,
    agency          String,
    agency_conf     Float32,
    text            String,
    address         String,
    lat             Float64,
    lon             Float64,
    url             String,
    attachments     Array(String),
    author_hash     String,
    fingerprint     UInt64,
    event_time      DateTime,
    received_time   DateTime,
    processed_time  DateTime,
    status          String,
    incident_id     String,
    is_incident     UInt8,
    is_late         UInt8,
    kafka_topic     String,
    kafka_partition Int32,
    kafka_offset    Int64,
    version         UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(event_time)
ORDER BY (region, oktmo, event_time, appeal_id);
