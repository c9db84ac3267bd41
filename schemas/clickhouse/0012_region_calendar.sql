-- The region's calendar: day and month windows start at the region's local midnight, not UTC's. For Ryazan
-- (Europe/Moscow, UTC+3) a UTC "day" ran 03:00–03:00 and an appeal at 00:30 on 1 January was counted in
-- the old year. A materialized view cannot take a per-row time zone, so each appeals row carries the offset
-- of its region's zone at the event (tz_offset, seconds east of UTC; the processor sets it from
-- internal/model's region setting with Go's time package), and the views shift by it:
--   window_start = toDateTime(toStartOfDay|toStartOfMonth(toDateTime(toUInt32(event_time) + tz_offset))) - tz_offset
-- i.e. the UTC instant of the local midnight (first of the month). Partitions stay toYYYYMM/toYear of that
-- UTC instant. Minute and hour windows need no change for whole-hour offsets (all of Russia's zones).
-- Rows stored before this migration read tz_offset from the DEFAULT: the default region's zone (Moscow).
-- 18.16 has no ADD COLUMN IF NOT EXISTS (the runner treats "already exists" as done) nor DROP VIEW (DROP
-- TABLE drops a view on 18.16 and 25.8). Between a DROP and its CREATE an INSERT may miss the view, and the
-- existing rows are in UTC days: after this file `teplokarta migrate` rebuilds every partition of the three
-- rollups from appeals (processor/rollup, registered as this migration's after-hook).
ALTER TABLE appeals ADD COLUMN tz_offset Int32 DEFAULT toInt32(toUInt32(toDateTime(toString(event_time, 'Europe/Moscow'), 'UTC')) - toUInt32(event_time));

DROP TABLE IF EXISTS appeal_counts_1d_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS appeal_counts_1d_mv TO appeal_counts_1d AS
SELECT
    toDateTime(toStartOfDay(toDateTime(toUInt32(event_time) + tz_offset))) - tz_offset AS window_start,
    region, oktmo, category, theme, agency, source,
    toUInt64(sum(is_incident)) AS incidents,
    toUInt64(count()) AS voices,
    toUInt64(sum(is_late)) AS late
FROM appeals
GROUP BY window_start, region, oktmo, category, theme, agency, source;

DROP TABLE IF EXISTS appeal_counts_1mo_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS appeal_counts_1mo_mv TO appeal_counts_1mo AS
SELECT
    toDateTime(toStartOfMonth(toDateTime(toUInt32(event_time) + tz_offset))) - tz_offset AS window_start,
    region, oktmo, category, source,
    toUInt64(sum(is_incident)) AS incidents,
    toUInt64(count()) AS voices,
    toUInt64(sum(is_late)) AS late
FROM appeals
GROUP BY window_start, region, oktmo, category, source;

DROP TABLE IF EXISTS appeal_counts_oktmo_1d_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS appeal_counts_oktmo_1d_mv TO appeal_counts_oktmo_1d AS
SELECT
    toDateTime(toStartOfDay(toDateTime(toUInt32(event_time) + tz_offset))) - tz_offset AS window_start,
    region, oktmo, category, source,
    toUInt64(sum(is_incident)) AS incidents,
    toUInt64(count()) AS voices,
    toUInt64(sum(is_late)) AS late
FROM appeals
GROUP BY window_start, region, oktmo, category, source;
