-- One row per session view (playback.sessions), written by the qoe processor.
-- Exactness: summary_id is deterministic (sessionId:firstSeq), and ReplacingMergeTree keeps
-- one row per summary_id, so a summary written twice (a replay after a crash) counts once.
-- Readers use FINAL. start_time is fixed for a summary, so the partition key never splits
-- two copies of one summary across partitions (ReplacingMergeTree dedupes within one).
CREATE TABLE IF NOT EXISTS {db}.sessions
(
    summary_id String,
    summary_version UInt16,
    session_id String,
    viewer_id String,
    title_id LowCardinality(String),
    start_time DateTime64(3),
    end_time DateTime64(3),
    duration_ms Int64,
    end_reason LowCardinality(String),
    startup_outcome LowCardinality(String),
    play_attempt UInt8,
    ebvs UInt8,
    vsf UInt8,
    vpf UInt8,
    startup_ms Nullable(Int64),
    play_ms Int64,
    paused_ms Int64,
    stall_ms Int64,
    seek_stall_ms Int64,
    stall_count UInt32,
    rebuffer_ratio Nullable(Float64),
    stalls_per_hour Nullable(Float64),
    avg_bitrate_kbps Nullable(Float64),
    switches_up UInt32,
    switches_down UInt32,
    bytes Int64,
    download_ms Int64,
    segments UInt32,
    throughput_kbps Nullable(Float64),
    oca_id LowCardinality(String),
    first_oca_id LowCardinality(String),
    plan_oca_id LowCardinality(String),
    device_class LowCardinality(String),
    isp LowCardinality(String),
    region LowCardinality(String),
    country LowCardinality(String),
    player_name LowCardinality(String),
    experiments Array(Tuple(key String, cell String)),
    event_count UInt32,
    missing_seq_count UInt32,
    error_count UInt32,
    fatal_error_type LowCardinality(String),
    fatal_error_details LowCardinality(String),
    score Nullable(Float64),
    source_partition Int32,
    source_offset_last Int64,
    written_at DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(source_offset_last)
PARTITION BY toYYYYMMDD(start_time)
ORDER BY summary_id
TTL toDateTime(start_time) + INTERVAL 90 DAY;

-- Skip indexes for the dashboards' time-range and breakdown filters.
ALTER TABLE {db}.sessions ADD INDEX IF NOT EXISTS idx_end_time end_time TYPE minmax GRANULARITY 1;
ALTER TABLE {db}.sessions ADD INDEX IF NOT EXISTS idx_oca oca_id TYPE set(256) GRANULARITY 4;
