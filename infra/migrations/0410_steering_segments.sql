-- Segment-level evidence for steering (processors/steering/README.md, "Segment evidence"):
-- one row per playback event that says which OCA a session was loading from or how a
-- segment request went, written by the steering role's own consumer of playback.events.
--   kind 'segment': a segment_downloaded (oca_id, bytes, download_ms).
--   kind 'error':   a segment or manifest load error (hls.js fragLoadError, fragLoadTimeOut,
--                   manifestLoadError, manifestLoadTimeOut); the event names no OCA, so
--                   oca_id is '' and the reader attributes it to the OCA of the session's
--                   latest preceding 'segment' or 'oca' row (ASOF JOIN on session_id and time).
--   kind 'oca':     a play_intent or manifest_loaded that names an OCA: the OCA a session's
--                   first requests go to, before any segment arrived.
--
-- Exactness: (source_partition, source_offset) identifies a Kafka record; the row is a pure
-- function of the record, and its event_time comes from the record too, so a replay writes
-- the same ORDER BY key into the same partition and ReplacingMergeTree keeps one copy.
-- Readers use FINAL. event_time leads the key so a window's rows are read by range.
-- The steering model reads minutes of it; two days are kept for diagnosis.
CREATE TABLE IF NOT EXISTS {db}.steering_segments
(
    event_time DateTime64(3),
    source_partition Int32,
    source_offset Int64,
    kind LowCardinality(String),
    session_id String,
    seq Int32,
    oca_id LowCardinality(String),
    isp LowCardinality(String),
    region LowCardinality(String),
    bytes Int64,
    download_ms Int64,
    error_details LowCardinality(String),
    fatal UInt8,
    http_status Int32
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (event_time, source_partition, source_offset)
TTL toDateTime(event_time) + INTERVAL 2 DAY;
