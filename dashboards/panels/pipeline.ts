/**
 * Pipeline health: ingest rate, rejections by reason, dead-letter volume, consumer lag and
 * freshness. The numbers are the roles' own Prometheus metrics (producers/ingest/metrics.ts,
 * processors/runtime/partition-consumer.ts, the processors' dead-letter counters) and the
 * freshness probes, copied every few seconds into pipeline_metrics by
 * dashboards/snapshot.ts. Counter rows hold the increase since the previous snapshot
 * (kind 'delta'), so a rate is sum(value) / seconds; gauge rows hold the value at `ts`, read
 * as the last value of each series per interval, then summed across series.
 */
import { DEAD_LETTERED_SUFFIX, FRESHNESS_METRIC, SESSIONIZE_LATE } from '../snapshot.ts';
import { DB } from './sql.ts';
import type { DashboardDefinition, FieldSpec, PanelDefinition } from './types.ts';

const f = (name: string, displayName: string, unit?: FieldSpec['unit']): FieldSpec =>
  unit === undefined ? { name, displayName } : { name, displayName, unit };

const ACCEPTED = 'playloop_ingest_events_accepted_total';
const REJECTED = 'playloop_ingest_events_rejected_total';
const INGEST_DEAD_LETTERED = 'playloop_ingest_events_dead_lettered_total';
const LAG = 'playloop_consumer_lag';
const RECORDS = 'playloop_processor_records_total';
/**
 * Dead-letter counters: every `*_dead_lettered_total` (ingest, qoe, outcomes ...) and
 * sessionize's late events, which it dead-letters (processors/sessionize/processor.ts).
 */
const DEAD_LETTERED = `(endsWith(metric, '${DEAD_LETTERED_SUFFIX}') OR metric = '${SESSIONIZE_LATE}')`;

const FROM = `FROM ${DB}.pipeline_metrics`;

/** A lag series: one partition of one topic read by one processor in one process. */
const LAG_SERIES = "instance, labels['processor'], labels['topic'], labels['partition']";

const stats: PanelDefinition[] = [
  {
    id: 'pipe-ingest-rate-now',
    title: 'Ingest rate (last minute)',
    description:
      'Events accepted by ingest (acknowledged by Kafka) per second over the last minute of the range.',
    kind: 'stat',
    sql: `SELECT sum(value) / 60 AS value
${FROM}
WHERE ts > $__toTime_ms - INTERVAL 60 SECOND AND ts <= $__toTime_ms AND metric = '${ACCEPTED}' AND kind = 'delta'`,
    unit: 'suffix: ev/s',
    fields: { labels: [], values: [f('value', 'ingest rate')] },
    width: 6,
    height: 4,
  },
  {
    id: 'pipe-rejected-total',
    title: 'Rejected events',
    description: 'Events ingest refused (each dead-lettered with its reason) in the time range.',
    kind: 'stat',
    sql: `SELECT sum(value) AS value
${FROM}
WHERE $__timeFilter(ts) AND metric = '${REJECTED}' AND kind = 'delta'`,
    unit: 'short',
    fields: { labels: [], values: [f('value', 'rejected')] },
    width: 6,
    height: 4,
  },
  {
    id: 'pipe-lag-now',
    title: 'Consumer lag (latest)',
    description: 'Records behind the high watermark, all processors and partitions, at the latest snapshot.',
    kind: 'stat',
    sql: `SELECT sum(last_value) AS value
FROM (
    SELECT ${LAG_SERIES}, argMax(value, ts) AS last_value
    ${FROM}
    WHERE $__timeFilter(ts) AND metric = '${LAG}' AND kind = 'gauge'
    GROUP BY ${LAG_SERIES}
)`,
    unit: 'short',
    fields: { labels: [], values: [f('value', 'lag')] },
    width: 6,
    height: 4,
  },
  {
    id: 'pipe-freshness-now',
    title: 'Freshness (latest)',
    description:
      'Seconds from the end of the newest session stored in ClickHouse to the latest snapshot: how far behind real time the stored data is.',
    kind: 'stat',
    sql: `SELECT argMax(value, ts) AS value
${FROM}
WHERE $__timeFilter(ts) AND metric = '${FRESHNESS_METRIC}' AND labels['table'] = 'sessions' AND kind = 'gauge'`,
    unit: 's',
    fields: { labels: [], values: [f('value', 'freshness')] },
    width: 6,
    height: 4,
  },
];

const overTime: PanelDefinition[] = [
  {
    id: 'pipe-ingest-rate',
    title: 'Ingest rate',
    description: 'Events per second: accepted into Kafka, refused by validation, and written to the DLQ.',
    kind: 'timeseries',
    sql: `SELECT $__timeInterval(ts) AS time,
    sumIf(value, metric = '${ACCEPTED}') / $__interval_s AS accepted,
    sumIf(value, metric = '${REJECTED}') / $__interval_s AS rejected,
    sumIf(value, metric = '${INGEST_DEAD_LETTERED}') / $__interval_s AS dead_lettered
${FROM}
WHERE $__timeFilter(ts) AND kind = 'delta' AND metric IN ('${ACCEPTED}', '${REJECTED}', '${INGEST_DEAD_LETTERED}')
GROUP BY time
ORDER BY time`,
    unit: 'suffix: ev/s',
    fields: {
      time: 'time',
      labels: [],
      values: [f('accepted', 'accepted'), f('rejected', 'rejected'), f('dead_lettered', 'dead-lettered')],
    },
    minInterval: '10s',
    width: 12,
    height: 8,
  },
  {
    id: 'pipe-rejections-by-reason',
    title: 'Rejections by reason',
    description: 'Events refused by ingest per second, by rejection code (reasons seen in the range).',
    kind: 'timeseries',
    sql: `SELECT $__timeInterval(ts) AS time, labels['reason'] AS reason, sum(value) / $__interval_s AS rejected
${FROM}
WHERE $__timeFilter(ts) AND metric = '${REJECTED}' AND kind = 'delta'
    AND labels['reason'] IN (
        SELECT labels['reason'] ${FROM}
        WHERE $__timeFilter(ts) AND metric = '${REJECTED}' AND kind = 'delta'
        GROUP BY labels['reason'] HAVING sum(value) > 0
    )
GROUP BY time, reason
ORDER BY time, reason`,
    unit: 'suffix: ev/s',
    fields: { time: 'time', labels: [f('reason', 'reason')], values: [f('rejected', 'rejected')] },
    minInterval: '10s',
    width: 12,
    height: 8,
  },
  {
    id: 'pipe-dlq-volume',
    title: 'Dead-letter volume',
    description: 'Records written to dead-letter topics per second, by component and counter.',
    kind: 'timeseries',
    sql: `SELECT $__timeInterval(ts) AS time,
    concat(component, ' · ', replaceRegexpOne(metric, '^playloop_(.*)_total$', '\\\\1')) AS source,
    sum(value) / $__interval_s AS dead_lettered
${FROM}
WHERE $__timeFilter(ts) AND kind = 'delta' AND ${DEAD_LETTERED}
GROUP BY time, source
ORDER BY time, source`,
    unit: 'suffix: rec/s',
    fields: { time: 'time', labels: [f('source', 'source')], values: [f('dead_lettered', 'dead-lettered')] },
    minInterval: '10s',
    width: 12,
    height: 8,
  },
  {
    id: 'pipe-consumer-lag',
    title: 'Consumer lag by processor',
    description:
      'Records between each partition’s high watermark and the next offset read, summed per processor.',
    kind: 'timeseries',
    sql: `SELECT time, processor, sum(last_value) AS consumer_lag
FROM (
    SELECT $__timeInterval(ts) AS time, labels['processor'] AS processor, ${LAG_SERIES}, argMax(value, ts) AS last_value
    ${FROM}
    WHERE $__timeFilter(ts) AND metric = '${LAG}' AND kind = 'gauge'
    GROUP BY time, ${LAG_SERIES}
)
GROUP BY time, processor
ORDER BY time, processor`,
    unit: 'short',
    fields: { time: 'time', labels: [f('processor', 'processor')], values: [f('consumer_lag', 'lag')] },
    minInterval: '10s',
    width: 12,
    height: 8,
  },
  {
    id: 'pipe-processor-throughput',
    title: 'Processor throughput',
    description: 'Records handed to each processor per second (replays included).',
    kind: 'timeseries',
    sql: `SELECT $__timeInterval(ts) AS time, labels['processor'] AS processor, sum(value) / $__interval_s AS records
${FROM}
WHERE $__timeFilter(ts) AND metric = '${RECORDS}' AND kind = 'delta'
GROUP BY time, processor
ORDER BY time, processor`,
    unit: 'suffix: rec/s',
    fields: { time: 'time', labels: [f('processor', 'processor')], values: [f('records', 'records')] },
    minInterval: '10s',
    width: 12,
    height: 8,
  },
  {
    id: 'pipe-freshness',
    title: 'Freshness',
    description:
      'Per stored table, seconds from its newest row (sessions: end_time; qoe_windows: materialized_at) to the snapshot; the largest per interval.',
    kind: 'timeseries',
    sql: `SELECT $__timeInterval(ts) AS time, labels['table'] AS source_table, max(value) AS freshness
${FROM}
WHERE $__timeFilter(ts) AND metric = '${FRESHNESS_METRIC}' AND kind = 'gauge'
GROUP BY time, source_table
ORDER BY time, source_table`,
    unit: 's',
    fields: { time: 'time', labels: [f('source_table', 'table')], values: [f('freshness', 'freshness')] },
    minInterval: '10s',
    width: 12,
    height: 8,
  },
];

export const pipelineDashboard: DashboardDefinition = {
  uid: 'playloop-pipeline',
  slug: 'pipeline-health',
  title: 'playloop · Pipeline health',
  description: 'Ingest rate, rejections, dead letters, consumer lag and freshness.',
  variables: [],
  annotations: [],
  rows: [
    { title: 'Now', panels: stats },
    { title: 'Over time', panels: overTime },
  ],
};
