/**
 * The analysis's only reads: two aggregate queries that reduce an experiment's rows, inside
 * ClickHouse, to sufficient statistics. Nothing per unit or per session leaves ClickHouse.
 *
 * 1. Per cell and per cohort (UTC day of the units' first allocation), over `experiment_units`:
 *    units and sessions; for every metric of the definition the count of units with a value,
 *    the sum and the sum of squares of the unit values (n, Σy, Σy²: everything Welch's test,
 *    the two-proportion z-test and the mSPRT need); and for the primary metric the CUPED
 *    cross sums (Σx, Σx², Σxy) with x the unit's pre-period value of the same metric, split
 *    into units with and without a pre-period value (see sufficient.ts for the fill).
 *    Cohorts give the sequential test its looks; summed over cohorts they give the totals.
 * 2. Per cell, the histogram of play delay over exposed session views (value, count). Play
 *    delay is whole milliseconds, so the histogram is the exact empirical distribution in
 *    at most a few tens of thousands of rows per cell: every order statistic x_(k), and so
 *    every sample quantile and its exact order-statistic interval, is read from it by rank.
 */
import type { ClickHouse } from '../../infra/clickhouse.ts';
import { clickhouseFailure, queryRows } from '../../infra/clickhouse.ts';
import type { ExperimentDefinition } from '../definitions/schema.ts';
import type { MetricName, UnitType } from '../definitions/vocabulary.ts';
import { definedSql, valueSql } from './metrics.ts';

/** The metrics a definition analyses, primary first, each once. */
export function analysedMetrics(definition: ExperimentDefinition): MetricName[] {
  const m = definition.metrics;
  return [m.primary.metric, ...m.secondary.map((s) => s.metric), ...m.guardrails.map((g) => g.metric)];
}

export function cohortStatisticsSql(db: string, metrics: readonly MetricName[], unit: UnitType): string {
  // Each unit value is written once, as an alias (y_i, 0 where undefined; h_i, 1 where the
  // unit has a value); ClickHouse computes every expression once, so the sums of y_i, y_i²
  // and h_i are plain sums over precomputed columns.
  const sums = metrics.map(
    (metric, i) =>
      `sum(toUInt8(${definedSql(metric, '')}) AS h${i}) AS m${i}_n, ` +
      `sum(${valueSql(metric, unit, '')} AS y${i}) AS m${i}_s1, sum(y${i} * y${i}) AS m${i}_s2`,
  );
  const primary = metrics[0] as MetricName;
  return `
SELECT
    cell,
    intDiv(toUnixTimestamp64Milli(first_allocated_at), 86400000) AS cohort_day,
    count() AS units,
    sum(sessions) AS session_views,
    countIf(cells_seen > 1) AS units_in_several_cells,
    min(toUnixTimestamp64Milli(first_allocated_at)) AS first_ms,
    ${sums.join(',\n    ')},
    sum(h0 * (toUInt8(${definedSql(primary, 'pre_')}) AS hx)) AS cx_n,
    sum(y0 * hx) AS cx_sy,
    sum(y0 * y0 * hx) AS cx_sy2,
    sum((${valueSql(primary, unit, 'pre_')} AS x) * h0) AS cx_sx,
    sum(x * x * h0) AS cx_sx2,
    sum(x * y0) AS cx_sxy,
    sum(h0 * (1 - hx)) AS c0_n,
    sum(y0 * (1 - hx)) AS c0_sy,
    sum(y0 * y0 * (1 - hx)) AS c0_sy2
FROM ${db}.experiment_units FINAL
WHERE experiment_key = {key:String}
GROUP BY cell, cohort_day
ORDER BY cell, cohort_day`;
}

export function playDelayHistogramSql(db: string): string {
  return `
SELECT cell, startup_ms AS value, count() AS count
FROM ${db}.experiment_sessions FINAL
WHERE experiment_key = {key:String} AND startup_ms IS NOT NULL
GROUP BY cell, value
ORDER BY cell, value`;
}

/** n, Σy and Σy² of the unit values of one metric in one cell (and cohort). */
export interface MomentSums {
  readonly n: number;
  readonly sum: number;
  readonly sumSquares: number;
}

/** CUPED sums of the primary metric y and its pre-period value x. */
export interface CupedSums {
  /** Units with both y and x. */
  readonly withCovariate: {
    readonly n: number;
    readonly sumY: number;
    readonly sumY2: number;
    readonly sumX: number;
    readonly sumX2: number;
    readonly sumXY: number;
  };
  /** Units with y but no pre-period value. */
  readonly withoutCovariate: { readonly n: number; readonly sumY: number; readonly sumY2: number };
}

export interface CohortStatistics {
  readonly cell: string;
  /** Days since 1970-01-01 (UTC) of the cohort's first allocations. */
  readonly cohortDay: number;
  readonly units: number;
  readonly sessionViews: number;
  readonly unitsInSeveralCells: number;
  /** Earliest first allocation in the cohort, epoch ms. */
  readonly firstAllocationMs: number;
  /** In the order of `metrics`. */
  readonly metrics: readonly MomentSums[];
  readonly cuped: CupedSums;
}

/** The play-delay histogram of one cell: strictly increasing values and their counts. */
export interface Histogram {
  readonly values: readonly number[];
  readonly counts: readonly number[];
}

/** Everything the statistics need, as read from ClickHouse. */
export interface SufficientStatistics {
  readonly experimentKey: string;
  readonly unit: UnitType;
  /** The metrics the per-cohort sums are for, primary first. */
  readonly metrics: readonly MetricName[];
  readonly cohorts: readonly CohortStatistics[];
  readonly playDelay: ReadonlyMap<string, Histogram>;
}

type CohortRow = Record<string, number | string | null>;

function num(row: CohortRow, key: string): number {
  const v = row[key];
  // Sums over no rows are 0; a NaN (null in JSON) can only come from bad data.
  return typeof v === 'number' ? v : Number(v ?? 0);
}

export function parseCohortRow(row: CohortRow, metricCount: number): CohortStatistics {
  const metrics: MomentSums[] = [];
  for (let i = 0; i < metricCount; i++) {
    metrics.push({ n: num(row, `m${i}_n`), sum: num(row, `m${i}_s1`), sumSquares: num(row, `m${i}_s2`) });
  }
  return {
    cell: String(row['cell']),
    cohortDay: num(row, 'cohort_day'),
    units: num(row, 'units'),
    sessionViews: num(row, 'session_views'),
    unitsInSeveralCells: num(row, 'units_in_several_cells'),
    firstAllocationMs: num(row, 'first_ms'),
    metrics,
    cuped: {
      withCovariate: {
        n: num(row, 'cx_n'),
        sumY: num(row, 'cx_sy'),
        sumY2: num(row, 'cx_sy2'),
        sumX: num(row, 'cx_sx'),
        sumX2: num(row, 'cx_sx2'),
        sumXY: num(row, 'cx_sxy'),
      },
      withoutCovariate: { n: num(row, 'c0_n'), sumY: num(row, 'c0_sy'), sumY2: num(row, 'c0_sy2') },
    },
  };
}

/** Runs both aggregate queries for one experiment. */
export async function fetchSufficientStatistics(
  ch: ClickHouse,
  definition: ExperimentDefinition,
): Promise<SufficientStatistics> {
  const metrics = analysedMetrics(definition);
  const params = { key: definition.key };
  try {
    // The aggregates share names with unit columns (sessions...): read columns, not aliases.
    const settings = { prefer_column_name_to_alias: 1 } as const;
    const [cohortRows, histogramRows] = await Promise.all([
      ch.client
        .query({
          query: cohortStatisticsSql(ch.database, metrics, definition.unit),
          query_params: params,
          format: 'JSONEachRow',
          clickhouse_settings: settings,
        })
        .then((r) => r.json<CohortRow>()),
      queryRows<{ cell: string; value: number; count: number }>(
        ch.client,
        playDelayHistogramSql(ch.database),
        params,
      ),
    ]);
    const playDelay = new Map<string, { values: number[]; counts: number[] }>();
    for (const r of histogramRows) {
      const h = playDelay.get(r.cell) ?? { values: [], counts: [] };
      h.values.push(Number(r.value));
      h.counts.push(Number(r.count));
      playDelay.set(r.cell, h);
    }
    return {
      experimentKey: definition.key,
      unit: definition.unit,
      metrics,
      cohorts: cohortRows.map((row) => parseCohortRow(row, metrics.length)),
      playDelay,
    };
  } catch (cause) {
    throw clickhouseFailure(`reading the sufficient statistics of experiment ${definition.key}`, cause);
  }
}
