-- Event-time window rollups, built by materialized views from appeals. Exact because every appeals row is
-- inserted once (see 0001). SummingMergeTree collapses lazily: always query with sum() and GROUP BY.
-- incidents = first claimants, voices = every message about them (incidents included), late = rows that
-- arrived after their window's watermark had passed (corrections).
CREATE TABLE IF NOT EXISTS appeal_counts_1m
(
    window_start DateTime,
    region       String,
    oktmo        String,
    category     String,
    source       String,
    incidents    UInt64,
    voices       UInt64,
    late         UInt64
)
ENGINE = SummingMergeTree((incidents, voices, late))
PARTITION BY toYYYYMM(window_start)
ORDER BY (region, window_start, oktmo, category, source);

CREATE MATERIALIZED VIEW IF NOT EXISTS appeal_counts_1m_mv TO appeal_counts_1m AS
SELECT
    toStartOfMinute(event_time) AS window_start,
    region, oktmo, category, source,
    toUInt64(sum(is_incident)) AS incidents,
    toUInt64(count()) AS voices,
    toUInt64(sum(is_late)) AS late
FROM appeals
GROUP BY window_start, region, oktmo, category, source;

CREATE TABLE IF NOT EXISTS appeal_counts_1h
(
    window_start DateTime,
    region       String,
    oktmo        String,
    category     String,
    theme        String,
    agency       String,
    source       String,
    incidents    UInt64,
    voices       UInt64,
    late         UInt64
)
ENGINE = SummingMergeTree((incidents, voices, late))
PARTITION BY toYYYYMM(window_start)
ORDER BY (region, window_start, oktmo, category, theme, agency, source);

CREATE MATERIALIZED VIEW IF NOT EXISTS appeal_counts_1h_mv TO appeal_counts_1h AS
SELECT
    toStartOfHour(event_time) AS window_start,
    region, oktmo, category, theme, agency, source,
    toUInt64(sum(is_incident)) AS incidents,
    toUInt64(count()) AS voices,
    toUInt64(sum(is_late)) AS late
FROM appeals
GROUP BY window_start, region, oktmo, category, theme, agency, source;

CREATE TABLE IF NOT EXISTS appeal_counts_1d
(
    window_start DateTime,
    region       String,
    oktmo        String,
    category     String,
    theme        String,
    agency       String,
    source       String,
    incidents    UInt64,
    voices       UInt64,
    late         UInt64
)
ENGINE = SummingMergeTree((incidents, voices, late))
PARTITION BY toYYYYMM(window_start)
ORDER BY (region, window_start, oktmo, category, theme, agency, source);

CREATE MATERIALIZED VIEW IF NOT EXISTS appeal_counts_1d_mv TO appeal_counts_1d AS
SELECT
    toDateTime(toStartOfDay(event_time)) AS window_start,
    region, oktmo, category, theme, agency, source,
    toUInt64(sum(is_incident)) AS incidents,
    toUInt64(count()) AS voices,
    toUInt64(sum(is_late)) AS late
FROM appeals
GROUP BY window_start, region, oktmo, category, theme, agency, source;
