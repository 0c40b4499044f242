-- The audit trail of feedback configs (config.abr): one row per published version, saying
-- what changed (knobs before and after), why (reason, evidence), on whose authority
-- (actor) and from which version. Knobs, targeting and evidence are JSON.
--
-- One row per (config, scope, to_version). The process that wrote a version records it
-- with source_rank 1; the abr-tuning processor also records, with source_rank 0, versions it
-- sees on the topic that were written elsewhere (a CLI rollback while embedded ClickHouse
-- is held by another process), so no version goes unaudited. ReplacingMergeTree keeps the
-- author's row when both exist (no partitioning, so the two rows can always meet). Readers use FINAL.
CREATE TABLE IF NOT EXISTS {db}.config_audit
(
    recorded_at DateTime64(3),
    config LowCardinality(String),
    scope String,
    action LowCardinality(String),
    -- 0: there was no document for the scope before.
    from_version UInt64,
    to_version UInt64,
    knobs_before String,
    knobs_after String,
    targeting String,
    experiment_key String,
    cell String,
    reason String,
    evidence String,
    actor String,
    source_rank UInt8
)
ENGINE = ReplacingMergeTree(source_rank)
ORDER BY (config, scope, to_version)
TTL toDateTime(recorded_at) + INTERVAL 5 YEAR;
