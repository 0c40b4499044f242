/**
 * Reads closed QoE windows from ClickHouse `qoe_windows` (0201_qoe_windows.sql) as the
 * steering model's input: per window, scope and OCA, the OCA's sums and the sums of the
 * rest of the scope's fleet (the OCA left out), in one query.
 *
 * Each window row is fanned out to its three scopes with ARRAY JOIN (global, isp:<isp>,
 * region:<region>; an empty ISP or region gives no scope), then every (window, scope, OCA)
 * is joined with all rows of its window and scope and split with -If combinators into own
 * (same OCA) and rest (other OCAs). Startup p90 comes from merging the t-digest states the
 * same way, so the rest-of-fleet p90 is a real merged quantile, not an average of p90s.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { clickhouseFailure, queryRows } from '../../infra/clickhouse.ts';
import type { WindowSums } from './health.ts';
import type { ScopeOcaWindow, WindowObservation } from './steering.ts';

/** qoe_windows columns that are plain sums (see 0201_qoe_windows.sql). */
const SUMS = [
  'sessions',
  'attempts',
  'plays',
  'ebvs',
  'vsf',
  'vpf',
  'startups',
  'play_ms',
  'stall_ms',
  'stalls',
  'bytes',
  'download_ms',
  'score_sum',
  'scored',
] as const;

type SumColumn = (typeof SUMS)[number];

type Row = {
  window_start: number;
  scope: string;
  oca_id: string;
  own_p90: number | null;
  rest_p90: number | null;
} & {
  [K in `own_${SumColumn}` | `rest_${SumColumn}`]: number;
};

export function windowRowsSql(db: string): string {
  const columns = SUMS.join(', ');
  const sums = SUMS.flatMap((c) => [
    `toFloat64(sumIf(w.${c}, w.oca_id = o.oca_id)) AS own_${c}`,
    `toFloat64(sumIf(w.${c}, w.oca_id != o.oca_id)) AS rest_${c}`,
  ]).join(',\n  ');
  return `
WITH w AS (
  SELECT window_start, scope, oca_id, ${columns}, startup_ms_q
  FROM ${db}.qoe_windows FINAL
  ARRAY JOIN ['global', concat('isp:', isp), concat('region:', region)] AS scope
  WHERE window_sec = {windowSec:UInt32}
    AND window_start >= toDateTime({fromSec:UInt32}) AND window_start <= toDateTime({toSec:UInt32})
    AND oca_id != '' AND NOT endsWith(scope, ':')
)
SELECT
  toUInt32(o.window_start) AS window_start,
  o.scope AS scope,
  o.oca_id AS oca_id,
  ${sums},
  arrayElement(quantilesTDigestMergeIf(0.5, 0.9, 0.99)(w.startup_ms_q, w.oca_id = o.oca_id), 2) AS own_p90,
  arrayElement(quantilesTDigestMergeIf(0.5, 0.9, 0.99)(w.startup_ms_q, w.oca_id != o.oca_id), 2) AS rest_p90
FROM (SELECT DISTINCT window_start, scope, oca_id FROM w) AS o
INNER JOIN w ON w.window_start = o.window_start AND w.scope = o.scope
GROUP BY o.window_start, o.scope, o.oca_id
ORDER BY window_start, scope, oca_id`;
}

function sums(row: Row, side: 'own' | 'rest'): WindowSums {
  const n = (column: SumColumn): number => Number(row[`${side}_${column}`]);
  const p90 = side === 'own' ? row.own_p90 : row.rest_p90;
  const startups = n('startups');
  return {
    sessions: n('sessions'),
    attempts: n('attempts'),
    plays: n('plays'),
    ebvs: n('ebvs'),
    vsf: n('vsf'),
    vpf: n('vpf'),
    startups,
    startupP90Ms: startups === 0 || p90 === null || !Number.isFinite(p90) ? null : p90,
    playMs: n('play_ms'),
    stallMs: n('stall_ms'),
    stalls: n('stalls'),
    bytes: n('bytes'),
    downloadMs: n('download_ms'),
    scoreSum: n('score_sum'),
    scored: n('scored'),
  };
}

/**
 * Every window of `windowSec` starting in [fromMs, toMs] (both multiples of the window),
 * including windows without rows: an empty window is still a window without evidence.
 */
export async function readWindows(
  client: ClickHouseClient,
  db: string,
  range: { readonly windowSec: number; readonly fromMs: number; readonly toMs: number },
): Promise<WindowObservation[]> {
  let rows: Row[];
  try {
    rows = await queryRows<Row>(client, windowRowsSql(db), {
      windowSec: range.windowSec,
      fromSec: Math.floor(range.fromMs / 1000),
      toSec: Math.floor(range.toMs / 1000),
    });
  } catch (cause) {
    throw clickhouseFailure('reading QoE windows for steering', cause);
  }
  const byWindow = new Map<number, ScopeOcaWindow[]>();
  for (const row of rows) {
    const start = Number(row.window_start) * 1000;
    const list = byWindow.get(start) ?? [];
    byWindow.set(start, list);
    list.push({ scope: row.scope, ocaId: row.oca_id, own: sums(row, 'own'), rest: sums(row, 'rest') });
  }
  const windowMs = range.windowSec * 1000;
  const windows: WindowObservation[] = [];
  for (let start = range.fromMs; start <= range.toMs; start += windowMs) {
    windows.push({ windowStart: start, windowEnd: start + windowMs, rows: byWindow.get(start) ?? [] });
  }
  return windows;
}
