/**
 * Reads segment-level evidence from ClickHouse `steering_segments`
 * (0410_steering_segments.sql): per window, ISP, region and OCA, the successful downloads
 * (count, bytes, download time), the failed requests, and the sessions behind them with
 * their log throughputs. The scope fan-out and the
 * like-with-like baseline are pure TypeScript (segment-health.ts).
 *
 * Errors name no OCA: each is attributed with an ASOF JOIN to the OCA of its session's
 * latest row at or before it (a segment download, or the play intent / manifest naming the
 * first OCA), looking back `lookbackMs`. A player retries a failed request on the same OCA
 * until it gives up on it, and its next download names the next OCA, so the latest OCA
 * before an error is the one that failed. An error with no such row in the look-back is
 * not attributed and counts nowhere.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { clickhouseFailure, queryRows } from '../../infra/clickhouse.ts';
import type { SegmentCell } from './segment-health.ts';

export const STEERING_SEGMENTS_TABLE = 'steering_segments';

interface Row {
  window_start_ms: number;
  isp: string;
  region: string;
  oca_id: string;
  segments: number;
  failures: number;
  bytes: number;
  download_ms: number;
  sessions: number;
  tput_sessions: number;
  log_kbps_sum: number;
  log_kbps_sum_sq: number;
}

/**
 * Two levels: first per (window, ISP, region, OCA, session), then per cell, so each session
 * contributes one throughput (its bytes over its download time on that OCA in the window)
 * and the cell carries the count, sum and sum of squares of their logs (segment-health.ts).
 */
export function segmentCellsSql(db: string): string {
  const t = `${db}.${STEERING_SEGMENTS_TABLE}`;
  const inRange = `event_time >= fromUnixTimestamp64Milli({fromMs:Int64}) AND event_time < fromUnixTimestamp64Milli({toMs:Int64})`;
  return `
SELECT
  window_start_ms, isp, region, oca_id,
  toFloat64(sum(s_segments)) AS segments,
  toFloat64(sum(s_failures)) AS failures,
  toFloat64(sum(s_bytes)) AS bytes,
  toFloat64(sum(s_download_ms)) AS download_ms,
  toFloat64(count()) AS sessions,
  toFloat64(countIf(s_download_ms > 0 AND s_bytes > 0)) AS tput_sessions,
  sumIf(log(s_bytes * 8 / s_download_ms), s_download_ms > 0 AND s_bytes > 0) AS log_kbps_sum,
  sumIf(pow(log(s_bytes * 8 / s_download_ms), 2), s_download_ms > 0 AND s_bytes > 0) AS log_kbps_sum_sq
FROM (
  SELECT
    intDiv(toUnixTimestamp64Milli(event_time), {windowMs:Int64}) * {windowMs:Int64} AS window_start_ms,
    isp, region, oca_id, session_id,
    sum(is_segment) AS s_segments,
    sum(is_failure) AS s_failures,
    toFloat64(sum(bytes)) AS s_bytes,
    toFloat64(sum(download_ms)) AS s_download_ms
  FROM (
    SELECT event_time, session_id, isp, region, oca_id, 1 AS is_segment, 0 AS is_failure, bytes, download_ms
    FROM ${t} FINAL
    WHERE kind = 'segment' AND ${inRange}
    UNION ALL
    SELECT e.event_time AS event_time, e.session_id AS session_id, e.isp AS isp, e.region AS region,
           o.oca_id AS oca_id, 0 AS is_segment, 1 AS is_failure, toInt64(0) AS bytes, toInt64(0) AS download_ms
    FROM (
      SELECT event_time, session_id, isp, region FROM ${t} FINAL WHERE kind = 'error' AND ${inRange}
    ) AS e
    ASOF LEFT JOIN (
      SELECT event_time, session_id, oca_id FROM ${t} FINAL
      WHERE kind IN ('segment', 'oca')
        AND event_time >= fromUnixTimestamp64Milli({lookbackFromMs:Int64})
        AND event_time < fromUnixTimestamp64Milli({toMs:Int64})
        -- Only the sessions that erred: the join's right side stays small.
        AND session_id IN (SELECT session_id FROM ${t} WHERE kind = 'error' AND ${inRange})
    ) AS o
    ON e.session_id = o.session_id AND e.event_time >= o.event_time
  )
  WHERE oca_id != ''
  GROUP BY window_start_ms, isp, region, oca_id, session_id
)
GROUP BY window_start_ms, isp, region, oca_id
ORDER BY window_start_ms, isp, region, oca_id`;
}

/**
 * Segment cells of every window of `windowMs` starting in [fromMs, toMs] (multiples of the
 * window), keyed by window start (epoch ms). A window without rows is absent.
 */
export async function readSegmentCells(
  client: ClickHouseClient,
  db: string,
  range: {
    readonly windowMs: number;
    readonly fromMs: number;
    readonly toMs: number;
    readonly lookbackMs: number;
  },
): Promise<Map<number, SegmentCell[]>> {
  let rows: Row[];
  try {
    rows = await queryRows<Row>(client, segmentCellsSql(db), {
      windowMs: range.windowMs,
      fromMs: range.fromMs,
      toMs: range.toMs + range.windowMs,
      lookbackFromMs: range.fromMs - range.lookbackMs,
    });
  } catch (cause) {
    throw clickhouseFailure('reading segment evidence for steering', cause);
  }
  const byWindow = new Map<number, SegmentCell[]>();
  for (const row of rows) {
    const start = Number(row.window_start_ms);
    const list = byWindow.get(start) ?? [];
    byWindow.set(start, list);
    list.push({
      isp: row.isp,
      region: row.region,
      ocaId: row.oca_id,
      segments: Number(row.segments),
      failures: Number(row.failures),
      bytes: Number(row.bytes),
      downloadMs: Number(row.download_ms),
      sessions: Number(row.sessions),
      tputSessions: Number(row.tput_sessions),
      logKbpsSum: Number(row.log_kbps_sum),
      logKbpsSumSq: Number(row.log_kbps_sum_sq),
    });
  }
  return byWindow;
}
