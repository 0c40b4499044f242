-- Tumbling-window QoE aggregates, one row per (window size, window, OCA, ISP, region,
-- device class, title), materialised by the qoe processor from sessions FINAL.
-- Sessions belong to the window of their end_time (when their outcome is known).
--
-- Exactness: a window is recomputed from the deduplicated sessions whenever a session lands
-- in it (late ones included), and ReplacingMergeTree(materialized_at) keeps the newest
-- computation per key, so replays and late data never double count. Readers use FINAL.
--
-- Columns are sums and counts (mergeable across any breakdown by plain sum()), plus
-- t-digest states for startup quantiles (mergeable with quantilesTDigestMerge). Rates are
-- derived at read time:
--   rebuffer ratio = stall_ms / (play_ms + stall_ms)
--   stalls per hour = stalls / ((play_ms + stall_ms) / 3 600 000)
--   average bitrate = bitrate_kbps_ms / bitrate_play_ms (time-weighted over play time)
--   EBVS, VSF rate = ebvs / attempts, vsf / attempts; VPF rate = vpf / plays
CREATE TABLE IF NOT EXISTS {db}.qoe_windows
(
    window_sec UInt32,
    window_start DateTime,
    oca_id LowCardinality(String),
    isp LowCardinality(String),
    region LowCardinality(String),
    device_class LowCardinality(String),
    title_id LowCardinality(String),
    sessions UInt64,
    attempts UInt64,
    plays UInt64,
    ebvs UInt64,
    vsf UInt64,
    vpf UInt64,
    startups UInt64,
    startup_ms_sum Int64,
    startup_ms_q AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), Float64),
    play_ms Int64,
    stall_ms Int64,
    stalls UInt64,
    bitrate_kbps_ms Float64,
    bitrate_play_ms Int64,
    switches_up UInt64,
    switches_down UInt64,
    bytes Int64,
    download_ms Int64,
    score_sum Float64,
    scored UInt64,
    materialized_at DateTime64(3)
)
ENGINE = ReplacingMergeTree(materialized_at)
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_sec, window_start, oca_id, isp, region, device_class, title_id)
TTL window_start + INTERVAL 90 DAY;

-- The same aggregates per experiment cell (a session in several experiments counts in each).
CREATE TABLE IF NOT EXISTS {db}.qoe_cells
(
    window_sec UInt32,
    window_start DateTime,
    experiment_key LowCardinality(String),
    cell LowCardinality(String),
    device_class LowCardinality(String),
    sessions UInt64,
    attempts UInt64,
    plays UInt64,
    ebvs UInt64,
    vsf UInt64,
    vpf UInt64,
    startups UInt64,
    startup_ms_sum Int64,
    startup_ms_q AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), Float64),
    play_ms Int64,
    stall_ms Int64,
    stalls UInt64,
    bitrate_kbps_ms Float64,
    bitrate_play_ms Int64,
    switches_up UInt64,
    switches_down UInt64,
    score_sum Float64,
    scored UInt64,
    materialized_at DateTime64(3)
)
ENGINE = ReplacingMergeTree(materialized_at)
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (window_sec, experiment_key, cell, window_start, device_class)
TTL window_start + INTERVAL 90 DAY;
