-- Experiment outcomes, written by the outcomes processor (processors/outcomes/README.md).
--
-- Exactness, as for the qoe tables: the two input tables hold deduplicated copies of the
-- Kafka records (deterministic keys, ReplacingMergeTree, read with FINAL); the three
-- derived tables are RECOMPUTED per viewer from those inputs whenever an allocation or a
-- session of the viewer arrives (never incremented), and ReplacingMergeTree(computed_at)
-- keeps the newest computation per key. A replay writes the same inputs again and
-- recomputes the same rows. Sessions that arrive before their allocation are joined when
-- the allocation arrives, because the allocation makes the viewer dirty too.
--
-- Retention: the derived rows are recomputed from the inputs, so the inputs carry no TTL.
-- Dropping old input rows would change a recomputation; archive experiments instead.

-- Input 1: every allocation event (experiment.allocations), deduplicated on its content.
-- Ordered by viewer first: the recomputation reads all allocations of a set of viewers.
CREATE TABLE IF NOT EXISTS {db}.experiment_allocation_events
(
    viewer_id String,
    experiment_key LowCardinality(String),
    unit_id String,
    allocated_at DateTime64(3),
    cell LowCardinality(String),
    source LowCardinality(String),
    session_id String,
    unit_type LowCardinality(String),
    control UInt8,
    bucket UInt16,
    namespace LowCardinality(String),
    hash_version UInt8,
    seed String,
    definition_digest String,
    device_class LowCardinality(String),
    country LowCardinality(String),
    isp LowCardinality(String),
    source_partition Int32,
    source_offset Int64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(allocated_at)
ORDER BY (viewer_id, experiment_key, unit_id, allocated_at, cell, source, session_id);

-- Input 2: the outcomes processor's own copy of session summaries (playback.sessions),
-- ordered by viewer, with only what the experiment tables need. The qoe processor's
-- `sessions` table is ordered by summary id, where a viewer's sessions cannot be found
-- without a full scan, and is written by another consumer group that may lag this one.
-- experiment_keys: the experiment keys the session itself carries (play_intent cells).
CREATE TABLE IF NOT EXISTS {db}.experiment_viewer_sessions
(
    viewer_id String,
    summary_id String,
    session_id String,
    title_id LowCardinality(String),
    start_time DateTime64(3),
    end_time DateTime64(3),
    device_class LowCardinality(String),
    isp LowCardinality(String),
    country LowCardinality(String),
    experiment_keys Array(String),
    play_attempt UInt8,
    started UInt8,
    ebvs UInt8,
    vsf UInt8,
    vpf UInt8,
    startup_ms Nullable(Int64),
    play_ms Int64,
    stall_ms Int64,
    stall_count UInt32,
    avg_bitrate_kbps Nullable(Float64),
    switches_up UInt32,
    switches_down UInt32,
    score Nullable(Float64),
    source_offset_last Int64
)
ENGINE = ReplacingMergeTree(source_offset_last)
PARTITION BY toYYYYMM(start_time)
ORDER BY (viewer_id, summary_id);

-- One row per experiment x unit: the unit's FIRST allocation (cell, time, bucket, digest,
-- targeting context), plus how often and into how many cells it was allocated. A unit seen
-- in more than one cell (cells_seen > 1) means the assignment changed under it.
CREATE TABLE IF NOT EXISTS {db}.experiment_allocations
(
    experiment_key LowCardinality(String),
    unit_id String,
    unit_type LowCardinality(String),
    viewer_id String,
    cell LowCardinality(String),
    control UInt8,
    first_allocated_at DateTime64(3),
    last_allocated_at DateTime64(3),
    allocations UInt64,
    cells_seen UInt16,
    bucket UInt16,
    namespace LowCardinality(String),
    hash_version UInt8,
    seed String,
    definition_digest String,
    digests_seen UInt16,
    source LowCardinality(String),
    device_class LowCardinality(String),
    country LowCardinality(String),
    isp LowCardinality(String),
    computed_at DateTime64(6)
)
ENGINE = ReplacingMergeTree(computed_at)
ORDER BY (experiment_key, unit_id);

-- One row per experiment x exposed session view: the unit's cell and the session's QoE.
-- Exposed: for a viewer unit, the viewer's sessions that started at or after its first
-- allocation (less a grace for clock differences) or that carry the experiment themselves;
-- for a session unit, the views of that session.
CREATE TABLE IF NOT EXISTS {db}.experiment_sessions
(
    experiment_key LowCardinality(String),
    unit_id String,
    summary_id String,
    unit_type LowCardinality(String),
    cell LowCardinality(String),
    viewer_id String,
    session_id String,
    title_id LowCardinality(String),
    start_time DateTime64(3),
    end_time DateTime64(3),
    first_allocated_at DateTime64(3),
    device_class LowCardinality(String),
    isp LowCardinality(String),
    country LowCardinality(String),
    play_attempt UInt8,
    started UInt8,
    ebvs UInt8,
    vsf UInt8,
    vpf UInt8,
    startup_ms Nullable(Int64),
    play_ms Int64,
    stall_ms Int64,
    stall_count UInt32,
    avg_bitrate_kbps Nullable(Float64),
    switches_up UInt32,
    switches_down UInt32,
    score Nullable(Float64),
    computed_at DateTime64(6)
)
ENGINE = ReplacingMergeTree(computed_at)
ORDER BY (experiment_key, unit_id, summary_id);

-- One row per experiment x unit: sums over its exposed sessions (what the analysis reads),
-- and the same sums over its PRE-PERIOD sessions, the CUPED covariate (Deng et al., WSDM
-- 2013): the sessions of the unit's viewer that started in the pre-period window before
-- the unit's first allocation, did not carry this experiment, and (for a session unit) are
-- not the unit itself. Every metric is a ratio of two of these sums (experiments/analysis).
CREATE TABLE IF NOT EXISTS {db}.experiment_units
(
    experiment_key LowCardinality(String),
    unit_id String,
    unit_type LowCardinality(String),
    cell LowCardinality(String),
    viewer_id String,
    first_allocated_at DateTime64(3),
    cells_seen UInt16,
    sessions UInt64,
    attempts UInt64,
    plays UInt64,
    ebvs UInt64,
    vsf UInt64,
    vpf UInt64,
    startups UInt64,
    startup_ms Int64,
    play_ms Int64,
    stall_ms Int64,
    stall_count UInt64,
    bitrate_kbps_ms Float64,
    bitrate_play_ms Int64,
    switches UInt64,
    score_sum Float64,
    scored UInt64,
    pre_sessions UInt64,
    pre_attempts UInt64,
    pre_plays UInt64,
    pre_ebvs UInt64,
    pre_vsf UInt64,
    pre_vpf UInt64,
    pre_startups UInt64,
    pre_startup_ms Int64,
    pre_play_ms Int64,
    pre_stall_ms Int64,
    pre_stall_count UInt64,
    pre_bitrate_kbps_ms Float64,
    pre_bitrate_play_ms Int64,
    pre_switches UInt64,
    pre_score_sum Float64,
    pre_scored UInt64,
    computed_at DateTime64(6)
)
ENGINE = ReplacingMergeTree(computed_at)
ORDER BY (experiment_key, unit_id);
