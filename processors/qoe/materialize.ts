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

export function materializeWindowsSql(db: string): string {
  return `
INSERT INTO ${db}.qoe_windows
SELECT
    {windowSec:UInt32} AS window_sec,
    toStartOfInterval(toDateTime(end_time), toIntervalSecond({windowSec:UInt32})) AS window_start,
    oca_id, isp, region, device_class, title_id,
    ${MEASURES},
    toInt64(sum(bytes)) AS bytes,
    toInt64(sum(download_ms)) AS download_ms,
    sum(ifNull(score, 0)) AS score_sum,
    countIf(score IS NOT NULL) AS scored,
    now64(3) AS materialized_at
FROM ${db}.sessions FINAL
WHERE end_time >= toDateTime64({fromSec:UInt32}, 3) AND end_time < toDateTime64({toSec:UInt32}, 3)
GROUP BY window_start, oca_id, isp, region, device_class, title_id`;
}

export function materializeCellsSql(db: string): string {
  return `
INSERT INTO ${db}.qoe_cells
SELECT
    {windowSec:UInt32} AS window_sec,
    toStartOfInterval(toDateTime(end_time), toIntervalSecond({windowSec:UInt32})) AS window_start,
    tupleElement(experiment, 1) AS experiment_key,
    tupleElement(experiment, 2) AS cell,
    device_class,
    ${MEASURES},
    sum(ifNull(score, 0)) AS score_sum,
    countIf(score IS NOT NULL) AS scored,
    now64(3) AS materialized_at
FROM ${db}.sessions FINAL
ARRAY JOIN experiments AS experiment
WHERE end_time >= toDateTime64({fromSec:UInt32}, 3) AND end_time < toDateTime64({toSec:UInt32}, 3)
GROUP BY window_start, experiment_key, cell, device_class`;
}

/** Recomputes the aggregates of every window in `ranges`. Idempotent: rows replace rows. */
export async function materialize(
  client: ClickHouseClient,
  db: string,
  ranges: readonly WindowRange[],
): Promise<void> {
  const windows = materializeWindowsSql(db);
  const cells = materializeCellsSql(db);
  for (const r of ranges) {
    const query_params = { windowSec: r.windowSec, fromSec: r.fromSec, toSec: r.toSec };
    // The aggregate columns share their names with the session columns they sum; read the
    // column, not the alias, inside the expressions.
    const clickhouse_settings = { prefer_column_name_to_alias: 1 } as const;
    await client.command({ query: windows, query_params, clickhouse_settings });
    await client.command({ query: cells, query_params, clickhouse_settings });
  }
}
