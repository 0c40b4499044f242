-- Foundation: a small table every role can write its start to, so `playloop status`
-- and the dashboards can tell which roles ran where and on which version.
CREATE TABLE IF NOT EXISTS {db}.role_starts
(
    started_at DateTime64(3),
    role LowCardinality(String),
    instance String,
    version String
)
ENGINE = MergeTree
ORDER BY (role, started_at)
TTL toDateTime(started_at) + INTERVAL 90 DAY;
