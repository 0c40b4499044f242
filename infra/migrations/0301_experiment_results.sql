-- Analysis results (experiments/analysis): one row per experiment x cell x metric x method
-- per analysis run, with the evidence behind the run's one decision. Every row of a run
-- carries the decision and its reasons, so any row read alone says what was decided and why.
--
-- metric: a QoE metric name, `startupMs:p50` (etc.) for play-delay quantiles, or `units`
-- for the sample-ratio check (estimate = observed share, control_estimate = expected share).
-- A run's key is (experiment_key, analyzed_at): re-running at the same time on the same
-- data writes the same rows, which ReplacingMergeTree collapses. Readers take the latest
-- analyzed_at per experiment (experiments/analysis/store.ts).
CREATE TABLE IF NOT EXISTS {db}.experiment_results
(
    experiment_key LowCardinality(String),
    analyzed_at DateTime64(3),
    analysis_id String,
    definition_digest String,
    unit_type LowCardinality(String),
    decision_rule LowCardinality(String),
    test_mode LowCardinality(String),
    alpha Float64,
    runtime_days Float64,
    cell LowCardinality(String),
    is_control UInt8,
    metric LowCardinality(String),
    role LowCardinality(String),
    method LowCardinality(String),
    decides UInt8,
    better LowCardinality(String),
    n UInt64,
    estimate Nullable(Float64),
    ci_lower Nullable(Float64),
    ci_upper Nullable(Float64),
    control_estimate Nullable(Float64),
    difference Nullable(Float64),
    difference_ci_lower Nullable(Float64),
    difference_ci_upper Nullable(Float64),
    lift Nullable(Float64),
    lift_ci_lower Nullable(Float64),
    lift_ci_upper Nullable(Float64),
    p_value Nullable(Float64),
    p_adjusted Nullable(Float64),
    p_adjustment LowCardinality(String),
    p_sequential Nullable(Float64),
    sequential_ci_lower Nullable(Float64),
    sequential_ci_upper Nullable(Float64),
    status LowCardinality(String),
    planned_n Nullable(UInt64),
    srm_p_value Nullable(Float64),
    decision LowCardinality(String),
    decision_cell String,
    reasons Array(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(analyzed_at)
ORDER BY (experiment_key, analyzed_at, cell, metric, method)
TTL toDateTime(analyzed_at) + INTERVAL 400 DAY;
