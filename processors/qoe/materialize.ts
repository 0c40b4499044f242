/**
 * The SQL that turns deduplicated sessions into window aggregates. One source of truth: the
 * qoe processor runs it on the windows a batch touched, and tests run it to check numbers.
 *
 * Two ways to a window's row, both recomputations (never increments), so running either
 * twice gives the same row and the newest row replaces the older (ReplacingMergeTree):
 * - from sessions: `qoe_sessions FINAL` (0204_qoe_sessions_by_end.sql), read only in the
 *   end_time ranges of the dirty windows: the table is ordered by end_time, so the primary key
 *   keeps the read to those ranges however long the history is;
 * - rolled up: a window whose size is a multiple of a smaller size recomputed in the same call
 *   is the sum of that size's rows inside it (every column is a sum or count, the startup
 *   t-digest a mergeable state). A 60 s window is then six 10 s windows' rows, a few hundred
 *   rows, instead of a minute of sessions read again every time one of them changes.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { WindowRange } from './windows.ts';

/** Sums and counts shared by both aggregate tables; see 0201_qoe_windows.sql for the rates. */
const MEASURES = `
    count() AS sessions,
    countIf(play_attempt = 1) AS attempts,
    countIf(startup_outcome = 'started') AS plays,
    countIf(ebvs = 1) AS ebvs,
    countIf(vsf = 1) AS vsf,
    countIf(vpf = 1) AS vpf,
    countIf(startup_ms IS NOT NULL) AS startups,
    toInt64(sum(ifNull(startup_ms, 0))) AS startup_ms_sum,
    quantilesTDigestStateIf(0.5, 0.9, 0.99)(toFloat64(ifNull(startup_ms, 0)), startup_ms IS NOT NULL) AS startup_ms_q,
    toInt64(sum(play_ms)) AS play_ms,
    toInt64(sum(stall_ms)) AS stall_ms,
    toUInt64(sum(stall_count)) AS stalls,
    sum(if(avg_bitrate_kbps IS NULL, 0, avg_bitrate_kbps * play_ms)) AS bitrate_kbps_ms,
    toInt64(sumIf(play_ms, avg_bitrate_kbps IS NOT NULL)) AS bitrate_play_ms,
    toUInt64(sum(switches_up)) AS switches_up,
    toUInt64(sum(switches_down)) AS switches_down`;

/** MEASURES of a set of aggregate rows: the same columns, summed (and t-digests merged). */
const ROLLED_UP_MEASURES = `
    sum(sessions) AS sessions,
    sum(attempts) AS attempts,
    sum(plays) AS plays,
    sum(ebvs) AS ebvs,
    sum(vsf) AS vsf,
    sum(vpf) AS vpf,
    sum(startups) AS startups,
    sum(startup_ms_sum) AS startup_ms_sum,
    quantilesTDigestMergeState(0.5, 0.9, 0.99)(startup_ms_q) AS startup_ms_q,
    sum(play_ms) AS play_ms,
    sum(stall_ms) AS stall_ms,
    sum(stalls) AS stalls,
    sum(bitrate_kbps_ms) AS bitrate_kbps_ms,
    sum(bitrate_play_ms) AS bitrate_play_ms,
    sum(switches_up) AS switches_up,
    sum(switches_down) AS switches_down`;

/**
 * The numbers a statement is about, written into its text. Not query parameters: embedded
 * chDB runs parameterised queries one at a time for the whole process (chdb-node's global
 * parameter chain), so a recomputation would queue behind every other processor's
 * parameterised query (sessionize checkpoints, outcomes) and they behind it. They are
 * integers this module computes, checked here, so nothing can be injected.
 */
function int(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a window bound in seconds: ${n}`);
  return String(n);
}

/**
 * Several ranges in one statement: they come in as three zipped arrays (ARRAY JOIN over
 * several arrays zips them), and each row is joined to the ranges and kept in those it falls
 * into. The window start is floored to a multiple of the window size since the epoch, as
 * toStartOfInterval(..., INTERVAL n SECOND) and windows.ts windowStartSec compute it.
 */
function rangesSql(ranges: readonly WindowRange[]): string {
  const list = (f: (r: WindowRange) => number): string => `[${ranges.map((r) => int(f(r))).join(', ')}]`;
  return `
ARRAY JOIN ${list((r) => r.windowSec)} AS w, ${list((r) => r.fromSec)} AS range_from, ${list((r) => r.toSec)} AS range_to`;
}

/**
 * The ARRAY JOIN condition cannot narrow the read (its bounds are per row to ClickHouse), so
 * the statement also carries the ranges' union as constant intervals on the sort-key column:
 * that is what the primary key prunes with.
 */
function coverSql(column: string, ranges: readonly WindowRange[], toTime: (sec: string) => string): string {
  const one = ([from, to]: readonly [number, number]): string =>
    `(${column} >= ${toTime(int(from))} AND ${column} < ${toTime(int(to))})`;
  return `(${coverOf(ranges).map(one).join(' OR ')})`;
}

const toTime64 = (sec: string): string => `toDateTime64(${sec}, 3)`;
const toTime = (sec: string): string => `toDateTime(${sec})`;

const SESSION_IN_RANGE = `end_time >= toDateTime64(range_from, 3) AND end_time < toDateTime64(range_to, 3)`;
const SESSION_WINDOW_START = `toDateTime(intDiv(toUnixTimestamp(toDateTime(end_time)), w) * w)`;

export function windowsFromSessionsSql(db: string, ranges: readonly WindowRange[]): string {
  return `
INSERT INTO ${db}.qoe_windows
SELECT
    w AS window_sec,
    ${SESSION_WINDOW_START} AS window_start,
    oca_id, isp, region, device_class, title_id,
    ${MEASURES},
    toInt64(sum(bytes)) AS bytes,
    toInt64(sum(download_ms)) AS download_ms,
    sum(ifNull(score, 0)) AS score_sum,
    countIf(score IS NOT NULL) AS scored,
    now64(3) AS materialized_at
FROM ${db}.qoe_sessions FINAL
${rangesSql(ranges)}
WHERE ${coverSql('end_time', ranges, toTime64)} AND ${SESSION_IN_RANGE}
GROUP BY window_sec, window_start, oca_id, isp, region, device_class, title_id`;
}

export function cellsFromSessionsSql(db: string, ranges: readonly WindowRange[]): string {
  return `
INSERT INTO ${db}.qoe_cells
SELECT
    w AS window_sec,
    ${SESSION_WINDOW_START} AS window_start,
    tupleElement(experiment, 1) AS experiment_key,
    tupleElement(experiment, 2) AS cell,
    device_class,
    ${MEASURES},
    sum(ifNull(score, 0)) AS score_sum,
    countIf(score IS NOT NULL) AS scored,
    now64(3) AS materialized_at
FROM ${db}.qoe_sessions FINAL
ARRAY JOIN experiments AS experiment
${rangesSql(ranges)}
WHERE ${coverSql('end_time', ranges, toTime64)} AND ${SESSION_IN_RANGE}
GROUP BY window_sec, window_start, experiment_key, cell, device_class`;
}

// The rolled-up window's size and start are named apart from the source row's window_sec and
// window_start columns, which the GROUP BY must not confuse them with.
const ROW_IN_RANGE = `window_start >= toDateTime(range_from) AND window_start < toDateTime(range_to)`;
const ROW_WINDOW_START = `toDateTime(intDiv(toUnixTimestamp(window_start), w) * w)`;

export function windowsRollUpSql(db: string, ranges: readonly WindowRange[], sourceSec: number): string {
  return `
INSERT INTO ${db}.qoe_windows
SELECT
    w AS rolled_sec,
    ${ROW_WINDOW_START} AS rolled_start,
    oca_id, isp, region, device_class, title_id,
    ${ROLLED_UP_MEASURES},
    sum(bytes) AS bytes,
    sum(download_ms) AS download_ms,
    sum(score_sum) AS score_sum,
    sum(scored) AS scored,
    now64(3) AS materialized_at
FROM ${db}.qoe_windows FINAL
${rangesSql(ranges)}
WHERE window_sec = ${int(sourceSec)} AND ${coverSql('window_start', ranges, toTime)} AND ${ROW_IN_RANGE}
GROUP BY rolled_sec, rolled_start, oca_id, isp, region, device_class, title_id`;
}

export function cellsRollUpSql(db: string, ranges: readonly WindowRange[], sourceSec: number): string {
  return `
INSERT INTO ${db}.qoe_cells
SELECT
    w AS rolled_sec,
    ${ROW_WINDOW_START} AS rolled_start,
    experiment_key, cell, device_class,
    ${ROLLED_UP_MEASURES},
    sum(score_sum) AS score_sum,
    sum(scored) AS scored,
    now64(3) AS materialized_at
FROM ${db}.qoe_cells FINAL
${rangesSql(ranges)}
WHERE window_sec = ${int(sourceSec)} AND ${coverSql('window_start', ranges, toTime)} AND ${ROW_IN_RANGE}
GROUP BY rolled_sec, rolled_start, experiment_key, cell, device_class`;
}

/** One statement of a recomputation: windows of one table, from sessions or rolled up. */
export interface MaterializeStatement {
  readonly table: 'qoe_windows' | 'qoe_cells';
  /** undefined: from sessions; else the smaller window size these windows are summed from. */
  readonly sourceSec: number | undefined;
  readonly ranges: readonly WindowRange[];
}

export interface PlanOptions {
  /**
   * The smallest size's qoe_windows rows are already current (the qoe processor recomputes
   * them on their own, sooner): leave that statement out.
   */
  readonly smallestWindowsCurrent?: boolean;
}

/**
 * The statements that recompute every window in `ranges`, in the order to run them. Pure.
 *
 * The smallest size comes from sessions, its qoe_windows rows first: they are what readers
 * look at soonest. A larger size is rolled up from the largest smaller size in `ranges` that
 * divides it (windows are aligned to the epoch, so such a window is a union of whole source
 * windows); a size no smaller one divides comes from sessions, before every roll-up (which
 * may sum it: 60 s from 15 s).
 *
 * Correct when `ranges` holds, for every changed session, the dirty windows of every size it
 * falls in, as DirtyWindows.drain gives them: then each source window inside a rolled-up
 * range is either recomputed by an earlier statement or unchanged since it was computed.
 */
export function planMaterialization(
  ranges: readonly WindowRange[],
  options: PlanOptions = {},
): MaterializeStatement[] {
  const sizes = [...new Set(ranges.map((r) => r.windowSec))].sort((a, b) => a - b);
  const of = (w: number): WindowRange[] => ranges.filter((r) => r.windowSec === w);
  const fromSessions: MaterializeStatement[] = [];
  const rollUps: MaterializeStatement[] = [];
  const others: WindowRange[] = [];
  for (const [i, w] of sizes.entries()) {
    const source = sizes
      .slice(0, i)
      .reverse()
      .find((s) => w % s === 0);
    if (i === 0) {
      if (options.smallestWindowsCurrent !== true)
        fromSessions.push({ table: 'qoe_windows', sourceSec: undefined, ranges: of(w) });
      fromSessions.push({ table: 'qoe_cells', sourceSec: undefined, ranges: of(w) });
    } else if (source === undefined) {
      others.push(...of(w));
    } else {
      rollUps.push({ table: 'qoe_windows', sourceSec: source, ranges: of(w) });
      rollUps.push({ table: 'qoe_cells', sourceSec: source, ranges: of(w) });
    }
  }
  if (others.length > 0) {
    fromSessions.push({ table: 'qoe_windows', sourceSec: undefined, ranges: others });
    fromSessions.push({ table: 'qoe_cells', sourceSec: undefined, ranges: others });
  }
  return [...fromSessions, ...rollUps];
}

/** The union of the ranges as sorted, disjoint [from, to) intervals of epoch seconds. */
export function coverOf(ranges: readonly WindowRange[]): Array<readonly [number, number]> {
  const sorted = [...ranges].sort((a, b) => a.fromSec - b.fromSec);
  const out: Array<[number, number]> = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r.fromSec <= last[1]) last[1] = Math.max(last[1], r.toSec);
    else out.push([r.fromSec, r.toSec]);
  }
  return out;
}

/** Runs the statements in order (see planMaterialization). Idempotent: rows replace rows. */
export async function runMaterialization(
  client: ClickHouseClient,
  db: string,
  statements: readonly MaterializeStatement[],
): Promise<void> {
  // The aggregate columns share their names with the columns they sum; read the column, not
  // the alias, inside the expressions.
  const clickhouse_settings = { prefer_column_name_to_alias: 1 } as const;
  for (const statement of statements) {
    if (statement.ranges.length === 0) continue;
    await client.command({ query: sqlOf(db, statement), clickhouse_settings });
  }
}

export function sqlOf(db: string, s: MaterializeStatement): string {
  if (s.sourceSec === undefined) {
    return s.table === 'qoe_windows'
      ? windowsFromSessionsSql(db, s.ranges)
      : cellsFromSessionsSql(db, s.ranges);
  }
  return s.table === 'qoe_windows'
    ? windowsRollUpSql(db, s.ranges, s.sourceSec)
    : cellsRollUpSql(db, s.ranges, s.sourceSec);
}

/**
 * Recomputes the aggregates of every window in `ranges` (see planMaterialization for what
 * `ranges` must cover). Idempotent: rows replace rows.
 */
export async function materialize(
  client: ClickHouseClient,
  db: string,
  ranges: readonly WindowRange[],
): Promise<void> {
  await runMaterialization(client, db, planMaterialization(ranges));
}
