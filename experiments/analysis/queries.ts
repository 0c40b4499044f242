/**
 * The analysis's only reads: two aggregate queries that reduce an experiment's rows, inside
 * ClickHouse, to sufficient statistics. Nothing per unit or per session leaves ClickHouse.
 *
 * 1. Per cell and per cohort (UTC day of the units' first allocation), over `experiment_units`:
 *    units and sessions; for every metric of the definition the count of units with a value,
 *    the sum and the sum of squares of the unit values (n, Σy, Σy²: everything Welch's test,
 *    the two-proportion z-test and the sequential tests need); and for the primary metric the
 *    CUPED cross sums (Σx, Σx², Σxy) with x the unit's pre-period value of the same metric,
 *    split into units with and without a pre-period value (see evaluate.ts for the fill).
 * 2. Per cell, the histogram of play delay over exposed session views (value, count). Play
 *    delay is whole milliseconds, so the histogram is the exact empirical distribution in
 *    at most a few tens of thousands of rows per cell: every order statistic x_(k), and so
 *    every sample quantile and its exact order-statistic interval, is read from it by rank.
 *
 * Where the time goes, and how it is avoided (bench/analysis.ts, 10M units in 4 cells):
 * both tables are ReplacingMergeTree, read with FINAL for exactness. Over one merged part
 * FINAL has nothing to merge, and the cost is the scan itself: ~20 columns x 10M rows and
 * ~35 sums per row, seconds of CPU. Over several parts whose keys interleave (a bulk load),
 * FINAL merge-sorts every row by its String key first, several times the scan.
 *
 * So each table carries an aggregate projection (infra/migrations/0302_experiment_analysis_
 * projections.sql) holding exactly these sums per experiment x cell x cohort day (and the
 * play-delay histogram per experiment x cell x value), for every metric and every metric as
 * primary, built by ClickHouse when a part is written and rebuilt when parts merge
 * (deduplicate_merge_projection_mode = 'rebuild', so a merged part's projection holds the
 * sums of its deduplicated rows). A projection cannot be read with FINAL, and summed over
 * several parts it would count a unit rewritten in two parts twice. The analysis therefore
 * first asks for the sums per part (GROUP BY _part, served by the projection in
 * milliseconds): when every row of the experiment sits in ONE part produced by a merge (level
 * > 0), that part holds each key once, and its sums are the FINAL sums exactly (the rule
 * ClickHouse itself uses to skip FINAL's merge). Otherwise the same sums are computed by the
 * exact FINAL scan. The per-part answer and its part come from one query, one snapshot, so
 * a part written in between cannot slip in unnoticed.
 */
import type { ClickHouse } from '../../infra/clickhouse.ts';
import { clickhouseFailure, queryRows } from '../../infra/clickhouse.ts';
import type { ExperimentDefinition } from '../definitions/schema.ts';
import { METRIC_NAMES, type MetricName, type UnitType } from '../definitions/vocabulary.ts';
import { definedSql, valueSql } from './metrics.ts';

/** The metrics a definition analyses, primary first, each once. */
export function analysedMetrics(definition: ExperimentDefinition): MetricName[] {
  const m = definition.metrics;
  return [m.primary.metric, ...m.secondary.map((s) => s.metric), ...m.guardrails.map((g) => g.metric)];
}

/** The cohort of a unit: UTC day of its first allocation, days since 1970-01-01. */
const COHORT_DAY_SQL = 'intDiv(toUnixTimestamp64Milli(first_allocated_at), 86400000)';

/**
 * Every aggregate, as (output name, SQL). The SQL is written out in full, with no alias
 * inside, because an aggregate projection serves a query only when the query's aggregate
 * expressions are the projection's own (ClickHouse matches them by expression).
 */
function unitAggregates(metrics: readonly MetricName[], unit: UnitType): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [
    ['units', 'count()'],
    ['session_views', 'sum(sessions)'],
    ['units_in_several_cells', 'countIf(cells_seen > 1)'],
    ['first_ms', 'min(toUnixTimestamp64Milli(first_allocated_at))'],
  ];
  metrics.forEach((metric, i) => {
    const h = `toUInt8(${definedSql(metric, '')})`;
    const y = valueSql(metric, unit, '');
    out.push([`m${i}_n`, `sum(${h})`], [`m${i}_s1`, `sum(${y})`], [`m${i}_s2`, `sum(${y} * ${y})`]);
  });
  const primary = metrics[0];
  if (primary !== undefined) out.push(...cupedAggregates(primary, unit));
  return out;
}

function cupedAggregates(primary: MetricName, unit: UnitType): Array<readonly [string, string]> {
  const h = `toUInt8(${definedSql(primary, '')})`;
  const y = valueSql(primary, unit, '');
  const hx = `toUInt8(${definedSql(primary, 'pre_')})`;
  const x = valueSql(primary, unit, 'pre_');
  return [
    ['cx_n', `sum(${h} * ${hx})`],
    ['cx_sy', `sum(${y} * ${hx})`],
    ['cx_sy2', `sum(${y} * ${y} * ${hx})`],
    ['cx_sx', `sum(${x} * ${h})`],
    ['cx_sx2', `sum(${x} * ${x} * ${h})`],
    ['cx_sxy', `sum(${x} * ${y})`],
    ['c0_n', `sum(${h} * (1 - ${hx}))`],
    ['c0_sy', `sum(${y} * (1 - ${hx}))`],
    ['c0_sy2', `sum(${y} * ${y} * (1 - ${hx}))`],
  ];
}

/**
 * The projection of experiment_units: every aggregate any definition can ask for (every
 * metric under both unit types, and every metric as the CUPED primary), once each.
 * infra/migrations/0302_experiment_analysis_projections.sql holds this text; a test keeps
 * the two equal.
 */
export function unitSumsProjectionSql(): string {
  const seen = new Set<string>();
  const aggregates: string[] = [];
  for (const unit of ['viewer', 'session'] as const) {
    for (const metric of METRIC_NAMES) {
      for (const [, sql] of unitAggregates([metric], unit)) {
        if (!seen.has(sql)) {
          seen.add(sql);
          aggregates.push(sql);
        }
      }
    }
  }
  return `PROJECTION analysis_unit_sums
    (
        SELECT experiment_key, cell, ${COHORT_DAY_SQL},
            ${aggregates.join(',\n            ')}
        GROUP BY experiment_key, cell, ${COHORT_DAY_SQL}
    )`;
}

/** The play-delay histogram projection of experiment_sessions (see unitSumsProjectionSql). */
export function playDelayProjectionSql(): string {
  return `PROJECTION analysis_play_delay
    (
        SELECT experiment_key, cell, startup_ms, count()
        GROUP BY experiment_key, cell, startup_ms
    )`;
}

/**
 * Per cell and cohort day. `byPart`: without FINAL, grouped by part as well (served by the
 * projection); otherwise with FINAL.
 */
export function cohortStatisticsSql(
  db: string,
  metrics: readonly MetricName[],
  unit: UnitType,
  byPart = false,
): string {
  const sums = unitAggregates(metrics, unit).map(([name, sql]) => `${sql} AS ${name}`);
  return `
SELECT
    ${byPart ? '_part AS part,\n    ' : ''}cell,
    ${COHORT_DAY_SQL} AS cohort_day,
    ${sums.join(',\n    ')}
FROM ${db}.experiment_units${byPart ? '' : ' FINAL'}
WHERE experiment_key = {key:String}
GROUP BY ${byPart ? 'part, ' : ''}cell, cohort_day
ORDER BY cell, cohort_day`;
}

export function playDelayHistogramSql(db: string, byPart = false): string {
  return `
SELECT ${byPart ? '_part AS part, ' : ''}cell, startup_ms AS value, count() AS count
FROM ${db}.experiment_sessions${byPart ? '' : ' FINAL'}
WHERE experiment_key = {key:String} AND startup_ms IS NOT NULL
GROUP BY ${byPart ? 'part, ' : ''}cell, value
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

/** How the sums were read: from one merged part's projection, or by the FINAL scan. */
export type ReadPath = 'merged-part-projection' | 'final-scan';

/** The part names a per-part answer came from, and whether one merged part holds them all. */
async function singleMergedPart(ch: ClickHouse, table: string, parts: ReadonlySet<string>): Promise<boolean> {
  if (parts.size !== 1) return false;
  const [name] = [...parts];
  // A part's level is fixed by its name; merged parts have level > 0. Looked up by name, not
  // parsed, since a partition id may itself contain underscores.
  const rows = await queryRows<{ level: number }>(
    ch.client,
    `SELECT level FROM system.parts WHERE database = {db:String} AND table = {table:String} AND name = {name:String} LIMIT 1`,
    { db: ch.database, table, name: name as string },
  );
  return Number(rows[0]?.level ?? 0) > 0;
}

type Row = Record<string, number | string | null>;

/**
 * Rows of one table's sums: per part from the projection when one merged part holds the
 * whole experiment, else from the FINAL scan (see the header).
 */
async function readExact(
  ch: ClickHouse,
  table: string,
  byPartSql: string,
  finalSql: string,
  params: Record<string, string>,
): Promise<{ rows: Row[]; path: ReadPath }> {
  // The aggregates share names with unit columns (sessions...): read columns, not aliases.
  const settings = { prefer_column_name_to_alias: 1 } as const;
  const run = async (query: string): Promise<Row[]> =>
    (
      await ch.client.query({
        query,
        query_params: params,
        format: 'JSONEachRow',
        clickhouse_settings: settings,
      })
    ).json<Row>();
  const perPart = await run(byPartSql);
  const parts = new Set(perPart.map((r) => String(r['part'])));
  if (perPart.length === 0 || (await singleMergedPart(ch, table, parts))) {
    return { rows: perPart, path: 'merged-part-projection' };
  }
  return { rows: await run(finalSql), path: 'final-scan' };
}

/** Runs both aggregate queries for one experiment. */
export async function fetchSufficientStatistics(
  ch: ClickHouse,
  definition: ExperimentDefinition,
): Promise<
  SufficientStatistics & { readonly readPaths: { readonly units: ReadPath; readonly sessions: ReadPath } }
> {
  const metrics = analysedMetrics(definition);
  const params = { key: definition.key };
  try {
    const units = await readExact(
      ch,
      'experiment_units',
      cohortStatisticsSql(ch.database, metrics, definition.unit, true),
      cohortStatisticsSql(ch.database, metrics, definition.unit),
      params,
    );
    const histogram = await readExact(
      ch,
      'experiment_sessions',
      playDelayHistogramSql(ch.database, true),
      playDelayHistogramSql(ch.database),
      params,
    );
    const playDelay = new Map<string, { values: number[]; counts: number[] }>();
    for (const r of histogram.rows) {
      const cell = String(r['cell']);
      const h = playDelay.get(cell) ?? { values: [], counts: [] };
      h.values.push(Number(r['value']));
      h.counts.push(Number(r['count']));
      playDelay.set(cell, h);
    }
    return {
      experimentKey: definition.key,
      unit: definition.unit,
      metrics,
      cohorts: units.rows.map((row) => parseCohortRow(row, metrics.length)),
      playDelay,
      readPaths: { units: units.path, sessions: histogram.path },
    };
  } catch (cause) {
    throw clickhouseFailure(`reading the sufficient statistics of experiment ${definition.key}`, cause);
  }
}
