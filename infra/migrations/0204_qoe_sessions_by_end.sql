-- The qoe processor's read path (processors/qoe/materialize.ts): the session columns the window
-- aggregates are computed from, ordered by end_time, the column a window is selected by.
--
-- Why a second table: `sessions` is ordered by summary_id (its dedup key), so a recomputation
-- of the windows a batch touched had to read and merge `sessions FINAL` whole, a cost that
-- grew with history on every tick. Ordered by (end_time, summary_id), the primary key keeps a
-- window's range to the granules that hold it, and FINAL merges only those.
--
-- Exactness: a materialized view copies every row inserted into `sessions` (replays and
-- duplicates included) and ReplacingMergeTree keeps one row per (end_time, summary_id), the
-- newest source_offset_last, as `sessions` does per summary_id. The two agree because a
-- summary's end_time is fixed by its events, as its start_time is (0200_sessions.sql): a
-- replay re-emits the same summary. That is also what the window recomputation has always
-- relied on, since it recomputes the window of the end_time it is handed and no other.
-- The day partition of end_time never splits two copies of one summary either.
CREATE TABLE IF NOT EXISTS {db}.qoe_sessions
(
    end_time DateTime64(3),
    summary_id String,
    source_offset_last Int64,
    title_id LowCardinality(String),
    oca_id LowCardinality(String),
    isp LowCardinality(String),
    region LowCardinality(String),
    device_class LowCardinality(String),
    experiments Array(Tuple(key String, cell String)),
    play_attempt UInt8,
    startup_outcome LowCardinality(String),
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
    bytes Int64,
    download_ms Int64,
    score Nullable(Float64)
)
ENGINE = ReplacingMergeTree(source_offset_last)
PARTITION BY toYYYYMMDD(end_time)
ORDER BY (end_time, summary_id)
TTL toDateTime(end_time) + INTERVAL 90 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.qoe_sessions_mv TO {db}.qoe_sessions AS
SELECT
    end_time, summary_id, source_offset_last, title_id, oca_id, isp, region, device_class,
    experiments, play_attempt, startup_outcome, ebvs, vsf, vpf, startup_ms, play_ms, stall_ms,
    stall_count, avg_bitrate_kbps, switches_up, switches_down, bytes, download_ms, score
FROM {db}.sessions;

-- Sessions written before this migration (the view only sees new inserts). Rows that arrive
-- between the view's creation and this copy land twice and collapse like any duplicate.
INSERT INTO {db}.qoe_sessions
SELECT
    end_time, summary_id, source_offset_last, title_id, oca_id, isp, region, device_class,
    experiments, play_attempt, startup_outcome, ebvs, vsf, vpf, startup_ms, play_ms, stall_ms,
    stall_count, avg_bitrate_kbps, switches_up, switches_down, bytes, download_ms, score
FROM {db}.sessions;
