-- Checkpoints of the sessionize processor: per (consumer group, topic, partition) the
-- partition's open sessions and the offset they are complete up to. The snapshot, not the
-- committed Kafka offset, is the truth on restore: state and position are one record, so
-- they can never disagree. The newest row wins (ReplacingMergeTree on written_at).
CREATE TABLE IF NOT EXISTS {db}.sessionize_checkpoints
(
    group_id String,
    topic String,
    partition UInt32,
    next_offset Int64,
    open_sessions UInt32,
    state String CODEC(ZSTD(3)),
    written_at DateTime64(3)
)
ENGINE = ReplacingMergeTree(written_at)
ORDER BY (group_id, topic, partition);
