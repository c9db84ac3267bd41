-- The processor's progress record per Kafka partition, filled by a materialized view in the same INSERT
-- as the appeals rows: resuming a partition and fencing a late writer read this tiny table instead of
-- scanning appeals. Query with max(); ReplacingMergeTree only keeps it small.
CREATE TABLE IF NOT EXISTS appeal_progress
(
    kafka_topic     String,
    kafka_partition Int32,
    max_offset      Int64,
    max_event_time  DateTime
)
ENGINE = ReplacingMergeTree(max_offset)
ORDER BY (kafka_topic, kafka_partition);

CREATE MATERIALIZED VIEW IF NOT EXISTS appeal_progress_mv TO appeal_progress AS
SELECT kafka_topic, kafka_partition, max(kafka_offset) AS max_offset, max(event_time) AS max_event_time
FROM appeals
GROUP BY kafka_topic, kafka_partition;
