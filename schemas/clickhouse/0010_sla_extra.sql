-- What appeal_sla lacks for the SLA engine and its rollups, kept beside it (18.16 has no
-- ADD COLUMN IF NOT EXISTS, and a new table keeps this migration re-runnable). One row per appeal and
-- version, written together with the appeal_sla row of the same version; read with FINAL.
-- at_risk = 1 once the "deadline is near" notice of the current deadline went out.
CREATE TABLE IF NOT EXISTS appeal_sla_extra
(
    appeal_id     String,
    municipality  String,
    theme         String,
    at_risk       UInt8,
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY appeal_id;
