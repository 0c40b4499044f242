-- Every change the steering processor published to config.steering: one row per OCA whose
-- state changed in a scope (kind 'state'), or one row for a document whose pathway priority
-- or OCA list changed without a state change (kind 'priority'), or the first document of a
-- scope (kind 'initial'). Dashboards draw these as annotations; the demo report lists them.
--
-- (scope, version, oca_id) identifies a row: a retried insert replaces, never duplicates.
CREATE TABLE IF NOT EXISTS {db}.steering_changes
(
    changed_at DateTime64(3),
    scope LowCardinality(String),
    version UInt64,
    kind LowCardinality(String),
    oca_id LowCardinality(String),
    from_state LowCardinality(String),
    to_state LowCardinality(String),
    score Float64,
    reason String,
    window_start DateTime64(3),
    window_end DateTime64(3),
    pathway_priority Array(String),
    -- The OCA's evidence (metrics, fleet baseline, bounds) as JSON.
    evidence String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(changed_at)
ORDER BY (scope, version, oca_id)
TTL toDateTime(changed_at) + INTERVAL 365 DAY;
