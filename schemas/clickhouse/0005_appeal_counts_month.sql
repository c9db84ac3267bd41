-- Narrow rollups for long ranges (heat map, top, planning over months or years). appeal_counts_1d is keyed
-- by day × OKTMO × category × theme × agency × source, which leaves ~1.8M rows per 10M appeals; queries
-- without a theme/agency/status filter do not need theme and agency, so they read these instead:
--   appeal_counts_1mo      — whole calendar months (window_start = first second of the month, UTC server);
--   appeal_counts_oktmo_1d — whole days, for the partial months at a range's edges.
-- Same columns and meaning as 0002 (minus theme/agency); same exactness rule: every appeals row is
-- inserted once. SummingMergeTree collapses lazily: always query with sum() and GROUP BY.
-- Rows inserted into appeals before this migration are not in these tables: fill them once with the
-- INSERT … SELECT … FROM appeals GROUP BY … statements in docs/grafana-plugin.md.
CREATE TABLE IF NOT EXISTS appeal_counts_1mo
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
PARTITION BY toYear(window_start)
ORDER BY (region, window_start, oktmo, category, source);

CREATE MATERIALIZED VIEW IF NOT EXISTS appeal_counts_1mo_mv TO appeal_counts_1mo AS
SELECT
    toDateTime(toStartOfMonth(event_time)) AS window_start,
    region, oktmo, category, source,
    toUInt64(sum(is_incident)) AS incidents,
    toUInt64(count()) AS voices,
    toUInt64(sum(is_late)) AS late
FROM appeals
GROUP BY window_start, region, oktmo, category, source;

CREATE TABLE IF NOT EXISTS appeal_counts_oktmo_1d
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

CREATE MATERIALIZED VIEW IF NOT EXISTS appeal_counts_oktmo_1d_mv TO appeal_counts_oktmo_1d AS
SELECT
    toDateTime(toStartOfDay(event_time)) AS window_start,
    region, oktmo, category, source,
    toUInt64(sum(is_incident)) AS incidents,
    toUInt64(count()) AS voices,
    toUInt64(sum(is_late)) AS late
FROM appeals
GROUP BY window_start, region, oktmo, category, source;
