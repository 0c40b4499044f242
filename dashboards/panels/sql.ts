/**
 * SQL fragments shared by the panels, and the dashboards' template variables.
 *
 * Tables are named `${db}.<table>`: `db` is a hidden constant variable, `playloop` in Grafana
 * (the provisioned datasource's default database) and the configured database in the
 * dashboard role, so one SQL text serves both.
 *
 * QoE aggregates (infra/migrations/0201_qoe_windows.sql) hold sums, counts and t-digest
 * states per window; rates are derived at read time with the formulas of that file's header,
 * and every read uses FINAL and exactly one `window_sec`, so windows of different sizes are
 * never added together.
 */
import type { VariableDefinition } from './types.ts';

/** `${name}`: a template variable reference, written so TypeScript does not interpolate it. */
export const v = (name: string): string => '${' + name + '}';

export const DB = v('db');

/**
 * For a time series: the largest window that fits in one interval, so every bucket sums
 * whole windows; the smallest window when the interval is finer than every window.
 */
export function windowForInterval(table: 'qoe_windows' | 'qoe_cells'): string {
  return `window_sec = (
      SELECT if(countIf(w <= $__interval_s) > 0, maxIf(w, w <= $__interval_s), min(w))
      FROM (SELECT DISTINCT window_sec AS w FROM ${DB}.${table} WHERE $__timeFilter(window_start))
    )`;
}

/** For totals over the range: the finest window, which follows the range's edges closest. */
export function finestWindow(table: 'qoe_windows' | 'qoe_cells'): string {
  return `window_sec = (SELECT min(window_sec) FROM ${DB}.${table} WHERE $__timeFilter(window_start))`;
}

/** The QoE dashboard's filters on qoe_windows columns. */
export const QOE_FILTERS = `$__conditionalAll(oca_id IN (${v('oca')}), $oca)
    AND $__conditionalAll(isp IN (${v('isp')}), $isp)
    AND $__conditionalAll(device_class IN (${v('device')}), $device)
    AND $__conditionalAll(title_id IN (${v('title')}), $title)`;

export const CELL_FILTERS = `$__conditionalAll(experiment_key IN (${v('experiment')}), $experiment)
    AND $__conditionalAll(device_class IN (${v('device')}), $device)`;

/** Rates from 0201's header; NULL (not NaN) when the denominator is 0. */
export const RATES = {
  startupQuantiles: 'quantilesTDigestMerge(0.5, 0.9, 0.99)(startup_ms_q)',
  rebufferRatio: 'sum(stall_ms) / nullIf(sum(play_ms) + sum(stall_ms), 0)',
  vsfRate: 'sum(vsf) / nullIf(sum(attempts), 0)',
  ebvsRate: 'sum(ebvs) / nullIf(sum(attempts), 0)',
  avgBitrateKbps: 'sum(bitrate_kbps_ms) / nullIf(sum(bitrate_play_ms), 0)',
  meanScore: 'sum(score_sum) / nullIf(sum(scored), 0)',
} as const;

/** Top series of a breakdown: the most watched values over the range, so charts stay legible. */
export const BREAKDOWN_TOP_N = 8;

export const VARIABLES: readonly VariableDefinition[] = [
  { type: 'constant', name: 'db', value: 'playloop' },
  {
    type: 'query',
    name: 'oca',
    label: 'OCA',
    sql: `SELECT DISTINCT oca_id FROM ${DB}.qoe_windows WHERE $__timeFilter(window_start) AND oca_id != '' ORDER BY oca_id`,
  },
  {
    type: 'query',
    name: 'isp',
    label: 'ISP',
    sql: `SELECT DISTINCT isp FROM ${DB}.qoe_windows WHERE $__timeFilter(window_start) AND isp != '' ORDER BY isp`,
  },
  {
    type: 'query',
    name: 'device',
    label: 'Device',
    sql: `SELECT DISTINCT device_class FROM ${DB}.qoe_windows WHERE $__timeFilter(window_start) AND device_class != '' ORDER BY device_class`,
  },
  {
    type: 'query',
    name: 'title',
    label: 'Title',
    sql: `SELECT DISTINCT title_id FROM ${DB}.qoe_windows WHERE $__timeFilter(window_start) AND title_id != '' ORDER BY title_id`,
  },
  {
    type: 'query',
    name: 'experiment',
    label: 'Experiment',
    sql: `SELECT DISTINCT experiment_key FROM ${DB}.qoe_cells WHERE $__timeFilter(window_start) ORDER BY experiment_key`,
  },
  {
    type: 'custom',
    name: 'breakdown',
    label: 'Break down by',
    options: [
      { text: 'OCA', value: 'oca_id' },
      { text: 'ISP', value: 'isp' },
      { text: 'Device', value: 'device_class' },
      { text: 'Title', value: 'title_id' },
    ],
    default: 'oca_id',
  },
];

export function variable(name: string): VariableDefinition {
  const found = VARIABLES.find((x) => x.name === name);
  if (!found) throw new Error(`no variable ${name}`);
  return found;
}
