-- SLA loop. appeal_events is the full status history (who, when, what); appeal_sla holds the current
-- state of each appeal (one row per appeal after FINAL / argMax by version), for compliance analytics.
-- event_id makes a replayed event harmless: readers use ReplacingMergeTree FINAL or LIMIT 1 BY event_id.
CREATE TABLE IF NOT EXISTS appeal_events
(
    event_id      String,
    appeal_id     String,
    region        String,
    oktmo         String,
    category      String,
    source        String,
    event_type    String,
    status        String,
    agency        String,
    actor         String,
    actor_role    String,
    comment       String,
    attachments   Array(String),
    deadline      DateTime,
    event_time    DateTime,
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(event_time)
ORDER BY (region, appeal_id, event_time, event_id);

-- status: assigned | in_work | resolved | returned (rejected as "not ours", back to curators).
-- resolved_time = toDateTime(0) while open. breached = 1 once the deadline passed unresolved.
CREATE TABLE IF NOT EXISTS appeal_sla
(
    appeal_id     String,
    region        String,
    oktmo         String,
    category      String,
    source        String,
    agency        String,
    status        String,
    received_time DateTime,
    deadline      DateTime,
    resolved_time DateTime,
    breached      UInt8,
    updated_time  DateTime,
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(received_time)
ORDER BY (region, appeal_id);
