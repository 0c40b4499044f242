/**
 * CDN & steering: how each OCA serves (QoE health and share of traffic, from qoe_windows),
 * how well the edge caches hit (per tier, from the OCAs' Prometheus counters snapshotted into
 * pipeline_metrics by dashboards/snapshot.ts), and when steering moved viewers
 * (steering_changes, written by the steering processor; shown as annotations too).
 *
 * steering_changes (infra/migrations/0400_steering_changes.sql): one row per OCA whose state
 * changed in a scope, or per priority-only or initial document; read with FINAL.
 */
import { DB, finestWindow, RATES, v, windowForInterval } from './sql.ts';
import type { AnnotationDefinition, DashboardDefinition, FieldSpec, PanelDefinition } from './types.ts';

const f = (name: string, displayName: string, unit?: FieldSpec['unit']): FieldSpec =>
  unit === undefined ? { name, displayName } : { name, displayName, unit };

const OCA_FILTER = (column: string): string => `$__conditionalAll(${column} IN (${v('oca')}), $oca)`;

/** What one steering change says, in one line. */
const CHANGE_TEXT = `concat(
        if(oca_id = '', '', concat(oca_id, ' ', from_state, ' → ', to_state, ' (score ', toString(round(score, 1)), '): ')),
        reason,
        ' · priority ', arrayStringConcat(pathway_priority, ' > '))`;

export const STEERING_ANNOTATION: AnnotationDefinition = {
  name: 'Steering changes',
  color: '#f2495c',
  sql: `SELECT
    changed_at AS time,
    concat('steering v', toString(version), ' · ', scope) AS title,
    ${CHANGE_TEXT} AS text,
    scope AS tags
FROM ${DB}.steering_changes FINAL
WHERE $__timeFilter(changed_at)
ORDER BY changed_at`,
};

const health: PanelDefinition = {
  id: 'cdn-oca-health',
  title: 'OCA health (mean session score)',
  description:
    'Mean 0–100 session score of the sessions each OCA served, per interval: the QoE signal the steering processor ranks OCAs by.',
  kind: 'timeseries',
  sql: `SELECT $__timeInterval(window_start) AS time, oca_id AS oca, ${RATES.meanScore} AS health_score
FROM ${DB}.qoe_windows FINAL
WHERE $__timeFilter(window_start)
    AND ${windowForInterval('qoe_windows')}
    AND oca_id != ''
    AND ${OCA_FILTER('oca_id')}
GROUP BY time, oca
ORDER BY time, oca`,
  unit: 'none',
  fields: { time: 'time', labels: [f('oca', 'OCA')], values: [f('health_score', 'health')] },
  minInterval: '10s',
  width: 12,
  height: 8,
};

const share: PanelDefinition = {
  id: 'cdn-traffic-share',
  title: 'Traffic share by OCA (bytes)',
  description: 'Share of the media bytes delivered by each OCA, per interval; the shares add up to 1.',
  kind: 'timeseries',
  // The share is taken over the whole fleet first; the OCA filter applies afterwards
  // (window functions run after WHERE in the same SELECT).
  sql: `SELECT time, oca, traffic_share
FROM (
    SELECT time, oca, delivered / sum(delivered) OVER (PARTITION BY time) AS traffic_share
    FROM (
        SELECT $__timeInterval(window_start) AS time, oca_id AS oca, sum(bytes) AS delivered
        FROM ${DB}.qoe_windows FINAL
        WHERE $__timeFilter(window_start)
            AND ${windowForInterval('qoe_windows')}
            AND oca_id != ''
        GROUP BY time, oca
        HAVING delivered > 0
    )
)
WHERE ${OCA_FILTER('oca')}
ORDER BY time, oca`,
  unit: 'percentunit',
  fields: { time: 'time', labels: [f('oca', 'OCA')], values: [f('traffic_share', 'share')] },
  minInterval: '10s',
  stacked: true,
  width: 12,
  height: 8,
};

const ocaTable: PanelDefinition = {
  id: 'cdn-oca-table',
  title: 'OCAs over the time range',
  description: 'Per OCA: sessions, share of sessions and bytes, health and the QoE behind it.',
  kind: 'table',
  sql: `SELECT * FROM (
    SELECT
        oca_id AS oca,
        sum(sessions) AS session_count,
        sum(sessions) / sum(sum(sessions)) OVER () AS session_share,
        sum(bytes) / nullIf(sum(sum(bytes)) OVER (), 0) AS traffic_share,
        ${RATES.meanScore} AS health_score,
        ${RATES.startupQuantiles}[2] AS startup_p90,
        ${RATES.rebufferRatio} AS rebuffer_ratio,
        ${RATES.vsfRate} AS vsf_rate
    FROM ${DB}.qoe_windows FINAL
    WHERE $__timeFilter(window_start)
        AND ${finestWindow('qoe_windows')}
        AND oca_id != ''
    GROUP BY oca
)
WHERE ${OCA_FILTER('oca')}
ORDER BY oca`,
  unit: 'short',
  fields: {
    labels: [f('oca', 'OCA')],
    values: [
      f('session_count', 'sessions', 'short'),
      f('session_share', 'session share', 'percentunit'),
      f('traffic_share', 'traffic share', 'percentunit'),
      f('health_score', 'health', 'none'),
      f('startup_p90', 'startup p90', 'ms'),
      f('rebuffer_ratio', 'rebuffer ratio', 'percentunit'),
      f('vsf_rate', 'VSF', 'percentunit'),
    ],
  },
  width: 24,
  height: 6,
};

const LOOKUPS = `metric = 'playloop_oca_cache_lookups_total' AND kind = 'delta'`;

const hitRatio: PanelDefinition = {
  id: 'cdn-cache-hit-ratio',
  title: 'Cache hit ratio by tier',
  description: 'Cache lookups that hit / all lookups, per OCA tier and interval (OCA counters, snapshotted).',
  kind: 'timeseries',
  sql: `SELECT $__timeInterval(ts) AS time, labels['tier'] AS tier,
    sumIf(value, labels['result'] = 'hit') / nullIf(sum(value), 0) AS hit_ratio
FROM ${DB}.pipeline_metrics
WHERE $__timeFilter(ts) AND ${LOOKUPS} AND ${OCA_FILTER("labels['oca']")}
GROUP BY time, tier
HAVING sum(value) > 0
ORDER BY time, tier`,
  unit: 'percentunit',
  fields: { time: 'time', labels: [f('tier', 'tier')], values: [f('hit_ratio', 'hit ratio')] },
  minInterval: '10s',
  width: 12,
  height: 8,
};

const cacheTable: PanelDefinition = {
  id: 'cdn-cache-table',
  title: 'Caches over the time range',
  description:
    'Per OCA: lookups that hit and missed, bytes served, bytes filled from storage on a miss, and the byte hit ratio (1 - miss fill / served).',
  kind: 'table',
  sql: `SELECT
    labels['tier'] AS tier,
    labels['oca'] AS oca,
    sumIf(value, metric = 'playloop_oca_cache_lookups_total' AND labels['result'] = 'hit') AS hits,
    sumIf(value, metric = 'playloop_oca_cache_lookups_total' AND labels['result'] = 'miss') AS misses,
    hits / nullIf(hits + misses, 0) AS hit_ratio,
    sumIf(value, metric = 'playloop_oca_served_bytes_total') AS served_bytes,
    sumIf(value, metric = 'playloop_oca_fill_bytes_total' AND labels['reason'] = 'miss') AS miss_fill_bytes,
    1 - miss_fill_bytes / nullIf(served_bytes, 0) AS byte_hit_ratio
FROM ${DB}.pipeline_metrics
WHERE $__timeFilter(ts)
    AND kind = 'delta'
    AND metric IN ('playloop_oca_cache_lookups_total', 'playloop_oca_served_bytes_total', 'playloop_oca_fill_bytes_total')
    AND ${OCA_FILTER("labels['oca']")}
GROUP BY tier, oca
ORDER BY tier, oca`,
  unit: 'short',
  fields: {
    labels: [f('tier', 'tier'), f('oca', 'OCA')],
    values: [
      f('hits', 'hits', 'short'),
      f('misses', 'misses', 'short'),
      f('hit_ratio', 'hit ratio', 'percentunit'),
      f('served_bytes', 'served', 'decbytes'),
      f('miss_fill_bytes', 'filled on miss', 'decbytes'),
      f('byte_hit_ratio', 'byte hit ratio', 'percentunit'),
    ],
  },
  width: 12,
  height: 8,
};

const steeringTable: PanelDefinition = {
  id: 'cdn-steering-changes',
  title: 'Steering changes',
  description:
    'Every change the steering processor published in the range, newest first: which OCA changed state, its health score, why, and the pathway priority served after it.',
  kind: 'table',
  sql: `SELECT
    changed_at AS time,
    scope,
    version,
    kind AS change,
    oca_id AS oca,
    if(from_state = '' AND to_state = '', '', concat(from_state, ' → ', to_state)) AS transition,
    score AS health_score,
    arrayStringConcat(pathway_priority, ' > ') AS priority,
    reason
FROM ${DB}.steering_changes FINAL
WHERE $__timeFilter(changed_at)
ORDER BY changed_at DESC, scope, oca
LIMIT 100`,
  unit: 'short',
  fields: {
    time: 'time',
    labels: [
      f('scope', 'scope'),
      f('change', 'change'),
      f('oca', 'OCA'),
      f('transition', 'state'),
      f('priority', 'pathway priority'),
      f('reason', 'reason'),
    ],
    values: [f('version', 'version', 'none'), f('health_score', 'health', 'none')],
  },
  width: 24,
  height: 6,
};

export const cdnDashboard: DashboardDefinition = {
  uid: 'playloop-cdn',
  slug: 'cdn-steering',
  title: 'playloop · CDN & steering',
  description: 'OCA health and traffic share, cache hit ratios per tier, and steering changes.',
  variables: ['oca'],
  annotations: [STEERING_ANNOTATION],
  rows: [
    { title: 'OCAs', panels: [health, share, ocaTable] },
    { title: 'Caches', panels: [hitRatio, cacheTable] },
    { title: 'Steering', panels: [steeringTable] },
  ],
};
