-- Snapshots of the Prometheus series the dashboards chart (ingest, processors, OCAs) and of
-- probes (freshness), written every few seconds by dashboards/snapshot.ts. Prometheus
-- registries live in each process and vanish with it; these rows let the dashboards, which
-- read only ClickHouse (Grafana and the dashboard role alike), chart them over time.
--
-- kind 'delta': a counter's increase since the previous snapshot of the same series (reset
-- or first sighting: counted from 0), so a rate is sum(value) / seconds under any grouping.
-- kind 'gauge': the value at ts; read the last value per series and interval (argMax), then
-- sum across series.
CREATE TABLE IF NOT EXISTS {db}.pipeline_metrics
(
    ts DateTime64(3),
    component LowCardinality(String),
    instance LowCardinality(String),
    metric LowCardinality(String),
    kind Enum8('delta' = 1, 'gauge' = 2),
    labels Map(String, String),
    value Float64
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (metric, ts)
TTL toDateTime(ts) + INTERVAL 30 DAY;
