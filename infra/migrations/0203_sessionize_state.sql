-- Incremental checkpoints of the sessionize processor (processors/sessionize/checkpoints.ts),
-- replacing the one-JSON-document-per-partition rows of sessionize_checkpoints (still read
-- when a partition has no incremental checkpoint yet).
--
-- A checkpoint (epoch) of a partition is its changed sessions and tombstones, encoded in
-- compact binary chunks (base64 here), then one commit row naming the epoch, the offset the
-- state is complete up to and the epoch of the last full checkpoint (base). State on restore
-- = the chunks of every COMMITTED epoch from the base to the newest commit, applied in order.
-- Chunks of an epoch that never committed (a crash mid-write) are ignored: epochs are never
-- reused (a new owner starts above every epoch present), and chunks carry their writer.
-- Epochs below a newer base are deleted once that base is committed.
CREATE TABLE IF NOT EXISTS {db}.sessionize_state_chunks
(
    group_id String,
    topic String,
    partition UInt32,
    epoch UInt64,
    writer String,
    chunk UInt32,
    entries UInt32,
    data String CODEC(ZSTD(1)),
    written_at DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (group_id, topic, partition, epoch, writer, chunk);

CREATE TABLE IF NOT EXISTS {db}.sessionize_state_commits
(
    group_id String,
    topic String,
    partition UInt32,
    epoch UInt64,
    writer String,
    base_epoch UInt64,
    chunks UInt32,
    next_offset Int64,
    open_sessions UInt32,
    meta String,
    written_at DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (group_id, topic, partition, epoch);
