/**
 * QoE overview: the design's QoE metrics (DESIGN.md, Contracts) from the qoe processor's
 * window aggregates: startup time p50/p90/p99, rebuffer ratio, VSF and EBVS rates and the
 * time-weighted average bitrate, over time and broken down by OCA, ISP, device and title.
 */
import { STEERING_ANNOTATION } from './cdn.ts';
import { BREAKDOWN_TOP_N, DB, finestWindow, QOE_FILTERS, RATES, v, windowForInterval } from './sql.ts';
import type { DashboardDefinition, FieldSpec, PanelDefinition } from './types.ts';

const FROM = `FROM ${DB}.qoe_windows FINAL`;
const OVER_TIME = `WHERE $__timeFilter(window_start)
    AND ${windowForInterval('qoe_windows')}
    AND ${QOE_FILTERS}`;
const OVER_RANGE = `WHERE $__timeFilter(window_start)
    AND ${finestWindow('qoe_windows')}
    AND ${QOE_FILTERS}`;

const f = (name: string, displayName: string, unit?: FieldSpec['unit']): FieldSpec =>
  unit === undefined ? { name, displayName } : { name, displayName, unit };

function stat(id: string, title: string, description: string, expr: string, unit: PanelDefinition['unit']) {
  return {
    id,
    title,
    description,
    kind: 'stat',
    sql: `SELECT ${expr} AS value
${FROM}
${OVER_RANGE}`,
    unit,
    fields: { labels: [], values: [f('value', title)] },
    width: 4,
    height: 4,
  } as const satisfies PanelDefinition;
}

const stats: PanelDefinition[] = [
  stat('qoe-sessions', 'Sessions', 'Sessions that ended in the time range.', 'sum(sessions)', 'short'),
  stat(
    'qoe-startup-p90',
    'Startup p90',
    'Play delay (play intent to first frame), 90th percentile, from merged t-digests.',
    `${RATES.startupQuantiles}[2]`,
    'ms',
  ),
  stat(
    'qoe-rebuffer',
    'Rebuffer ratio',
    'Stall time / (play time + stall time); stalls after the first frame, seeks excluded.',
    RATES.rebufferRatio,
    'percentunit',
  ),
  stat(
    'qoe-vsf',
    'VSF rate',
    'Video start failures (fatal error before the first frame) per play attempt.',
    RATES.vsfRate,
    'percentunit',
  ),
  stat(
    'qoe-ebvs',
    'EBVS rate',
    'Exits before video start (viewer left before the first frame, no error) per play attempt.',
    RATES.ebvsRate,
    'percentunit',
  ),
  stat('qoe-bitrate', 'Average bitrate', 'Time-weighted over play time.', RATES.avgBitrateKbps, 'Kbits'),
];

const overTime: PanelDefinition[] = [
  {
    id: 'qoe-startup-over-time',
    title: 'Startup time p50 / p90 / p99',
    description: 'Play delay quantiles per interval, merged from the windows’ t-digest states.',
    kind: 'timeseries',
    sql: `WITH ${RATES.startupQuantiles} AS q
SELECT $__timeInterval(window_start) AS time, q[1] AS p50, q[2] AS p90, q[3] AS p99
${FROM}
${OVER_TIME}
GROUP BY time
ORDER BY time`,
    unit: 'ms',
    fields: { time: 'time', labels: [], values: [f('p50', 'p50'), f('p90', 'p90'), f('p99', 'p99')] },
    minInterval: '10s',
    width: 12,
    height: 8,
  },
  {
    id: 'qoe-rebuffer-over-time',
    title: 'Rebuffer ratio',
    description: 'Stall time / (play time + stall time) per interval.',
    kind: 'timeseries',
    sql: `SELECT $__timeInterval(window_start) AS time, ${RATES.rebufferRatio} AS rebuffer_ratio
${FROM}
${OVER_TIME}
GROUP BY time
ORDER BY time`,
    unit: 'percentunit',
    fields: { time: 'time', labels: [], values: [f('rebuffer_ratio', 'rebuffer ratio')] },
    minInterval: '10s',
    width: 12,
    height: 8,
  },
  {
    id: 'qoe-start-failures-over-time',
    title: 'VSF and EBVS rates',
    description: 'Video start failures and exits before video start, per play attempt.',
    kind: 'timeseries',
    sql: `SELECT $__timeInterval(window_start) AS time, ${RATES.vsfRate} AS vsf_rate, ${RATES.ebvsRate} AS ebvs_rate
${FROM}
${OVER_TIME}
GROUP BY time
ORDER BY time`,
    unit: 'percentunit',
    fields: { time: 'time', labels: [], values: [f('vsf_rate', 'VSF'), f('ebvs_rate', 'EBVS')] },
    minInterval: '10s',
    width: 12,
    height: 8,
  },
  {
    id: 'qoe-bitrate-over-time',
    title: 'Average bitrate',
    description: 'Time-weighted average bitrate over play time, per interval.',
    kind: 'timeseries',
    sql: `SELECT $__timeInterval(window_start) AS time, ${RATES.avgBitrateKbps} AS avg_bitrate_kbps
${FROM}
${OVER_TIME}
GROUP BY time
ORDER BY time`,
    unit: 'Kbits',
    fields: { time: 'time', labels: [], values: [f('avg_bitrate_kbps', 'average bitrate')] },
    minInterval: '10s',
    width: 12,
    height: 8,
  },
];

/** The top values of the chosen breakdown over the range. */
const TOP_BREAKDOWN = `${v('breakdown')} IN (
      SELECT ${v('breakdown')}
      ${FROM}
      ${OVER_RANGE}
      GROUP BY ${v('breakdown')}
      ORDER BY sum(sessions) DESC, ${v('breakdown')}
      LIMIT ${BREAKDOWN_TOP_N}
    )`;

function byBreakdown(
  id: string,
  title: string,
  description: string,
  metric: { readonly expr: string; readonly column: string; readonly quantiles?: boolean },
  unit: PanelDefinition['unit'],
): PanelDefinition {
  const prefix = metric.quantiles ? `WITH ${RATES.startupQuantiles} AS q\n` : '';
  return {
    id,
    title: `${title} by $breakdown`,
    description: `${description} Split by the "Break down by" variable (top ${BREAKDOWN_TOP_N} by sessions).`,
    kind: 'timeseries',
    sql: `${prefix}SELECT $__timeInterval(window_start) AS time, toString(${v('breakdown')}) AS series, ${metric.expr} AS ${metric.column}
${FROM}
${OVER_TIME}
    AND ${TOP_BREAKDOWN}
GROUP BY time, series
ORDER BY time, series`,
    unit,
    fields: { time: 'time', labels: [f('series', 'series')], values: [f(metric.column, title)] },
    minInterval: '10s',
    width: 12,
    height: 8,
  };
}

const breakdownOverTime: PanelDefinition[] = [
  byBreakdown(
    'qoe-startup-p90-by',
    'Startup p90',
    'Play delay p90 per interval.',
    { expr: 'q[2]', column: 'p90', quantiles: true },
    'ms',
  ),
  byBreakdown(
    'qoe-rebuffer-by',
    'Rebuffer ratio',
    'Rebuffer ratio per interval.',
    { expr: RATES.rebufferRatio, column: 'rebuffer_ratio' },
    'percentunit',
  ),
  byBreakdown(
    'qoe-vsf-by',
    'VSF rate',
    'Video start failures per attempt.',
    { expr: RATES.vsfRate, column: 'vsf_rate' },
    'percentunit',
  ),
  byBreakdown(
    'qoe-ebvs-by',
    'EBVS rate',
    'Exits before video start per attempt.',
    { expr: RATES.ebvsRate, column: 'ebvs_rate' },
    'percentunit',
  ),
  byBreakdown(
    'qoe-bitrate-by',
    'Average bitrate',
    'Time-weighted average bitrate.',
    { expr: RATES.avgBitrateKbps, column: 'avg_bitrate_kbps' },
    'Kbits',
  ),
];

const TABLE_VALUES: readonly FieldSpec[] = [
  f('session_count', 'sessions', 'short'),
  f('attempt_count', 'attempts', 'short'),
  f('startup_p50', 'startup p50', 'ms'),
  f('startup_p90', 'startup p90', 'ms'),
  f('startup_p99', 'startup p99', 'ms'),
  f('rebuffer_ratio', 'rebuffer ratio', 'percentunit'),
  f('vsf_rate', 'VSF', 'percentunit'),
  f('ebvs_rate', 'EBVS', 'percentunit'),
  f('avg_bitrate_kbps', 'avg bitrate', 'Kbits'),
];

function breakdownTable(id: string, dimension: string, column: string, label: string): PanelDefinition {
  return {
    id,
    title: `QoE by ${label}`,
    description: `Every QoE metric per ${label} over the time range (most sessions first, 50 at most).`,
    kind: 'table',
    sql: `WITH ${RATES.startupQuantiles} AS q
SELECT
    if(${column} = '', '(none)', toString(${column})) AS ${dimension},
    sum(sessions) AS session_count,
    sum(attempts) AS attempt_count,
    q[1] AS startup_p50,
    q[2] AS startup_p90,
    q[3] AS startup_p99,
    ${RATES.rebufferRatio} AS rebuffer_ratio,
    ${RATES.vsfRate} AS vsf_rate,
    ${RATES.ebvsRate} AS ebvs_rate,
    ${RATES.avgBitrateKbps} AS avg_bitrate_kbps
${FROM}
${OVER_RANGE}
GROUP BY ${dimension}
ORDER BY session_count DESC, ${dimension}
LIMIT 50`,
    unit: 'short',
    fields: { labels: [f(dimension, label)], values: TABLE_VALUES },
    width: 24,
    height: 6,
  };
}

const tables: PanelDefinition[] = [
  breakdownTable('qoe-by-oca', 'oca', 'oca_id', 'OCA'),
  breakdownTable('qoe-by-isp', 'network', 'isp', 'ISP'),
  breakdownTable('qoe-by-device', 'device', 'device_class', 'device'),
  breakdownTable('qoe-by-title', 'title', 'title_id', 'title'),
];

export const qoeDashboard: DashboardDefinition = {
  uid: 'playloop-qoe',
  slug: 'qoe-overview',
  title: 'playloop · QoE overview',
  description: 'Startup time, rebuffering, start failures and bitrate from the qoe processor’s windows.',
  variables: ['oca', 'isp', 'device', 'title', 'breakdown'],
  annotations: [STEERING_ANNOTATION],
  rows: [
    { title: 'Over the time range', panels: stats },
    { title: 'Over time', panels: overTime },
    { title: 'Over time, by $breakdown', panels: breakdownOverTime },
    { title: 'Breakdowns', panels: tables },
  ],
};
