/**
 * Experiments: per experiment its cells and their sample sizes (qoe_cells, the qoe
 * processor's aggregates per experiment cell), the QoE of each cell over time, and what the
 * experiments engine's analysis stored in experiment_results
 * (infra/migrations/0301_experiment_results.sql, one row per experiment x cell x metric x
 * method per run): sample ratio mismatch, metric lifts with their intervals and the decision,
 * and the sequential test's confidence sequence against the observed difference.
 */
import { CELL_FILTERS, DB, finestWindow, RATES, v, windowForInterval } from './sql.ts';
import type { DashboardDefinition, FieldSpec, PanelDefinition } from './types.ts';

const f = (name: string, displayName: string, unit?: FieldSpec['unit']): FieldSpec =>
  unit === undefined ? { name, displayName } : { name, displayName, unit };

const EXPERIMENT_FILTER = `$__conditionalAll(experiment_key IN (${v('experiment')}), $experiment)`;

/** The newest run of each experiment at or before the end of the time range. */
const LATEST_RUN = `(experiment_key, analyzed_at) IN (
        SELECT experiment_key, max(analyzed_at)
        FROM ${DB}.experiment_results
        WHERE analyzed_at <= $__toTime_ms
        GROUP BY experiment_key
    )`;

/** experiments/stats/srm.ts flags a mismatch below this p-value (Fabijan et al., KDD 2019). */
const SRM_THRESHOLD = 0.001;

const cells: PanelDefinition = {
  id: 'exp-cells',
  title: 'Cells and sample sizes',
  description:
    'Sessions and play attempts per cell over the time range, each cell’s share of its experiment, and its QoE.',
  kind: 'table',
  sql: `SELECT
    experiment_key AS experiment,
    cell,
    sum(sessions) AS session_count,
    sum(attempts) AS attempt_count,
    sum(sessions) / sum(sum(sessions)) OVER (PARTITION BY experiment) AS session_share,
    ${RATES.startupQuantiles}[2] AS startup_p90,
    ${RATES.rebufferRatio} AS rebuffer_ratio
FROM ${DB}.qoe_cells FINAL
WHERE $__timeFilter(window_start)
    AND ${finestWindow('qoe_cells')}
    AND ${CELL_FILTERS}
GROUP BY experiment, cell
ORDER BY experiment, cell`,
  unit: 'short',
  fields: {
    labels: [f('experiment', 'experiment'), f('cell', 'cell')],
    values: [
      f('session_count', 'sessions', 'short'),
      f('attempt_count', 'attempts', 'short'),
      f('session_share', 'share', 'percentunit'),
      f('startup_p90', 'startup p90', 'ms'),
      f('rebuffer_ratio', 'rebuffer ratio', 'percentunit'),
    ],
  },
  width: 12,
  height: 8,
};

const srm: PanelDefinition = {
  id: 'exp-srm',
  title: 'Units and sample ratio mismatch',
  description: `Latest analysis: units per cell against the planned sample, observed and configured shares, and the SRM chi-square p-value (a mismatch is p < ${SRM_THRESHOLD}).`,
  kind: 'table',
  sql: `SELECT experiment, cell, units, planned, observed_share, expected_share, srm_p,
    multiIf(srm_p IS NULL, 'n/a', srm_p < ${SRM_THRESHOLD}, 'MISMATCH', 'ok') AS srm_status
FROM (
    SELECT
        experiment_key AS experiment,
        cell,
        metric,
        n AS units,
        max(planned_n) OVER (PARTITION BY experiment_key) AS planned,
        estimate AS observed_share,
        control_estimate AS expected_share,
        srm_p_value AS srm_p
    FROM ${DB}.experiment_results FINAL
    WHERE ${LATEST_RUN}
        AND ${EXPERIMENT_FILTER}
)
WHERE metric = 'units'
ORDER BY experiment, cell`,
  unit: 'short',
  fields: {
    labels: [f('experiment', 'experiment'), f('cell', 'cell'), f('srm_status', 'SRM')],
    values: [
      f('units', 'units', 'short'),
      f('planned', 'planned per cell', 'short'),
      f('observed_share', 'observed share', 'percentunit'),
      f('expected_share', 'expected share', 'percentunit'),
      f('srm_p', 'SRM p-value', 'none'),
    ],
  },
  width: 12,
  height: 8,
};

const lifts: PanelDefinition = {
  id: 'exp-lifts',
  title: 'Metric lifts with intervals',
  description:
    'Latest analysis: each metric of each treatment cell against the control, the relative lift and its interval, fixed-horizon, adjusted and always-valid p-values, the metric’s status and the decision.',
  kind: 'table',
  sql: `SELECT
    experiment_key AS experiment,
    cell,
    metric,
    role,
    method,
    status,
    decision,
    n,
    control_estimate,
    estimate,
    lift,
    lift_ci_lower,
    lift_ci_upper,
    p_value,
    p_adjusted,
    p_sequential
FROM ${DB}.experiment_results FINAL
WHERE ${LATEST_RUN}
    AND ${EXPERIMENT_FILTER}
    AND is_control = 0
    AND metric != 'units'
ORDER BY experiment, role, metric, cell, method`,
  unit: 'short',
  fields: {
    labels: [
      f('experiment', 'experiment'),
      f('cell', 'cell'),
      f('metric', 'metric'),
      f('role', 'role'),
      f('method', 'method'),
      f('status', 'status'),
      f('decision', 'decision'),
    ],
    values: [
      f('n', 'n', 'short'),
      f('control_estimate', 'control', 'none'),
      f('estimate', 'treatment', 'none'),
      f('lift', 'lift', 'percentunit'),
      f('lift_ci_lower', 'lift low', 'percentunit'),
      f('lift_ci_upper', 'lift high', 'percentunit'),
      f('p_value', 'p', 'none'),
      f('p_adjusted', 'p adjusted', 'none'),
      f('p_sequential', 'always-valid p', 'none'),
    ],
  },
  width: 24,
  height: 8,
};

const boundary: PanelDefinition = {
  id: 'exp-sequential-boundary',
  title: 'Sequential boundary (primary metrics)',
  description:
    'At each analysis run: the observed difference (treatment - control) and the mSPRT confidence sequence around it (experiments/stats/msprt.ts); the null hypothesis of no difference is rejected once 0 leaves the band.',
  kind: 'timeseries',
  sql: `SELECT
    analyzed_at AS time,
    concat(experiment_key, ' · ', cell, ' · ', metric) AS series,
    difference,
    sequential_ci_lower AS lower_bound,
    sequential_ci_upper AS upper_bound
FROM ${DB}.experiment_results FINAL
WHERE $__timeFilter(analyzed_at)
    AND ${EXPERIMENT_FILTER}
    AND role = 'primary'
    AND is_control = 0
    AND decides = 1
    AND difference IS NOT NULL
ORDER BY time, series`,
  unit: 'none',
  fields: {
    time: 'time',
    labels: [f('series', 'series')],
    values: [
      f('difference', 'difference'),
      f('lower_bound', 'sequence low'),
      f('upper_bound', 'sequence high'),
    ],
  },
  width: 24,
  height: 8,
};

function perCell(id: string, title: string, expr: string, column: string, unit: PanelDefinition['unit']) {
  return {
    id,
    title,
    description: `${title} per experiment cell and interval (qoe_cells).`,
    kind: 'timeseries',
    sql: `SELECT $__timeInterval(window_start) AS time, concat(experiment_key, ' · ', cell) AS series, ${expr} AS ${column}
FROM ${DB}.qoe_cells FINAL
WHERE $__timeFilter(window_start)
    AND ${windowForInterval('qoe_cells')}
    AND ${CELL_FILTERS}
GROUP BY time, series
ORDER BY time, series`,
    unit,
    fields: { time: 'time', labels: [f('series', 'cell')], values: [f(column, title)] },
    minInterval: '10s',
    width: 8,
    height: 8,
  } as const satisfies PanelDefinition;
}

export const experimentsDashboard: DashboardDefinition = {
  uid: 'playloop-experiments',
  slug: 'experiments',
  title: 'playloop · Experiments',
  description: 'Cells, sample sizes, SRM, metric lifts with intervals and the sequential boundary.',
  variables: ['experiment', 'device'],
  annotations: [],
  rows: [
    { title: 'Cells', panels: [cells, srm] },
    {
      title: 'Cells over time',
      panels: [
        perCell('exp-sessions-by-cell', 'Sessions', 'sum(sessions)', 'session_count', 'short'),
        perCell('exp-startup-by-cell', 'Startup p90', `${RATES.startupQuantiles}[2]`, 'startup_p90', 'ms'),
        perCell(
          'exp-rebuffer-by-cell',
          'Rebuffer ratio',
          RATES.rebufferRatio,
          'rebuffer_ratio',
          'percentunit',
        ),
      ],
    },
    { title: 'Analysis', panels: [lifts, boundary] },
  ],
};
