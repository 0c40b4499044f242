/**
 * The SQL that turns deduplicated sessions into window aggregates. One source of truth: the
 * qoe processor runs it on the windows a batch touched, and tests run it to check numbers.
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

/**
 * Every dirty range of every window size in one statement per table: `sessions FINAL` is
 * scanned (and its parts merged) once per table per recomputation, not once per range and
 * size, which was most of the qoe processor's time per tick as the table grew. The ranges
 * come in as three zipped arrays (ARRAY JOIN over several arrays zips them), and each
 * session row is joined to the ranges and kept in those its end_time falls into. The window
 * start is the end time floored to a multiple of the window size since the epoch, as
 * toStartOfInterval(..., INTERVAL n SECOND) and windows.ts windowStartSec compute it.
 */
const RANGES = `
ARRAY JOIN {windowSecs:Array(UInt32)} AS w, {fromSecs:Array(UInt32)} AS range_from, {toSecs:Array(UInt32)} AS range_to`;
const IN_RANGE = `end_time >= toDateTime64(range_from, 3) AND end_time < toDateTime64(range_to, 3)`;
const WINDOW_START = `toDateTime(intDiv(toUnixTimestamp(toDateTime(end_time)), w) * w)`;

export function materializeWindowsSql(db: string): string {
  return `
INSERT INTO ${db}.qoe_windows
SELECT
    w AS window_sec,
    ${WINDOW_START} AS window_start,
    oca_id, isp, region, device_class, title_id,
    ${MEASURES},
    toInt64(sum(bytes)) AS bytes,
    toInt64(sum(download_ms)) AS download_ms,
    sum(ifNull(score, 0)) AS score_sum,
    countIf(score IS NOT NULL) AS scored,
    now64(3) AS materialized_at
FROM ${db}.sessions FINAL
${RANGES}
WHERE ${IN_RANGE}
GROUP BY window_sec, window_start, oca_id, isp, region, device_class, title_id`;
}

export function materializeCellsSql(db: string): string {
  return `
INSERT INTO ${db}.qoe_cells
SELECT
    w AS window_sec,
    ${WINDOW_START} AS window_start,
    tupleElement(experiment, 1) AS experiment_key,
    tupleElement(experiment, 2) AS cell,
    device_class,
    ${MEASURES},
    sum(ifNull(score, 0)) AS score_sum,
    countIf(score IS NOT NULL) AS scored,
    now64(3) AS materialized_at
FROM ${db}.sessions FINAL
ARRAY JOIN experiments AS experiment
${RANGES}
WHERE ${IN_RANGE}
GROUP BY window_sec, window_start, experiment_key, cell, device_class`;
}

/** Recomputes the aggregates of every window in `ranges`. Idempotent: rows replace rows. */
export async function materialize(
  client: ClickHouseClient,
  db: string,
  ranges: readonly WindowRange[],
): Promise<void> {
  if (ranges.length === 0) return;
  const query_params = {
    windowSecs: ranges.map((r) => r.windowSec),
    fromSecs: ranges.map((r) => r.fromSec),
    toSecs: ranges.map((r) => r.toSec),
  };
  // The aggregate columns share their names with the session columns they sum; read the
  // column, not the alias, inside the expressions.
  const clickhouse_settings = { prefer_column_name_to_alias: 1 } as const;
  await client.command({ query: materializeWindowsSql(db), query_params, clickhouse_settings });
  await client.command({ query: materializeCellsSql(db), query_params, clickhouse_settings });
}
