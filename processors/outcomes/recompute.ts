/**
 * The SQL that recomputes the three derived experiment tables for a set of viewers, from
 * the deduplicated inputs (allocation events and viewer sessions, both read with FINAL).
 * One source of truth: the outcomes processor runs it for the viewers a batch touched, and
 * tests and benchmarks run it to seed data.
 *
 * Why per viewer: every row a record can change belongs to one viewer. An allocation
 * changes its unit (whose viewer it names); a session changes the units it is exposed to
 * (the viewer unit, or the session unit of that session) and the pre-period of every unit
 * of its viewer. Recomputing all units of the touched viewers therefore covers every
 * effect, whatever order the records arrive in (a session before its allocation included).
 *
 * Why the newest row is right when several processes recompute one viewer at once:
 * `computed_at` is now64() of the recomputing statement, fixed when it starts, and the
 * statement reads the parts that exist when it starts. Every input row is inserted before
 * the recomputation it triggers starts, so the statement that started last saw every
 * input, and ReplacingMergeTree(computed_at) keeps its row.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { UNIT_SUM_NAMES, unitSumsSql } from './unit-sums.ts';

export interface RecomputeSettings {
  /** A viewer-unit session starting this much before the first allocation still counts as exposed. */
  readonly exposureGraceMs: number;
  /** Length of the CUPED pre-period window before the first allocation. */
  readonly prePeriodMs: number;
  /** Viewers per statement. */
  readonly batchViewers: number;
}

/**
 * Each unit's first allocation, from all allocation events of the viewers. Ties in time are
 * broken by cell, source and session so the choice never depends on insert order.
 */
function firstAllocationsSql(db: string): string {
  return `
    SELECT
        experiment_key,
        unit_id,
        argMin(unit_type, k) AS unit_type,
        argMin(viewer_id, k) AS viewer_id,
        argMin(cell, k) AS cell,
        argMin(control, k) AS control,
        min(allocated_at) AS first_allocated_at,
        max(allocated_at) AS last_allocated_at,
        count() AS allocations,
        toUInt16(uniqExact(cell)) AS cells_seen,
        argMin(bucket, k) AS bucket,
        argMin(namespace, k) AS namespace,
        argMin(hash_version, k) AS hash_version,
        argMin(seed, k) AS seed,
        argMin(definition_digest, k) AS definition_digest,
        toUInt16(uniqExact(definition_digest)) AS digests_seen,
        argMin(source, k) AS source,
        argMin(device_class, k) AS device_class,
        argMin(country, k) AS country,
        argMin(isp, k) AS isp
    FROM
    (
        SELECT *, (allocated_at, cell, source, session_id) AS k
        FROM ${db}.experiment_allocation_events FINAL
        WHERE viewer_id IN {viewers:Array(String)}
    )
    GROUP BY experiment_key, unit_id`;
}

/** The viewers' session views, columns prefixed `s_` so they never meet an aggregate's alias. */
function viewerSessionsSql(db: string): string {
  return `
    SELECT
        viewer_id AS s_viewer_id, summary_id AS s_summary_id, session_id AS s_session_id,
        title_id AS s_title_id, start_time AS s_start_time, end_time AS s_end_time,
        toUnixTimestamp64Milli(start_time) AS s_start_ms,
        device_class AS s_device_class, isp AS s_isp, country AS s_country,
        experiment_keys AS s_experiment_keys,
        play_attempt AS s_play_attempt, started AS s_started, ebvs AS s_ebvs, vsf AS s_vsf, vpf AS s_vpf,
        startup_ms AS s_startup_ms, play_ms AS s_play_ms, stall_ms AS s_stall_ms,
        stall_count AS s_stall_count, avg_bitrate_kbps AS s_avg_bitrate_kbps,
        switches_up AS s_switches_up, switches_down AS s_switches_down, score AS s_score
    FROM ${db}.experiment_viewer_sessions FINAL
    WHERE viewer_id IN {viewers:Array(String)}`;
}

/**
 * Exposure of a session view to a unit (columns of a joined allocation `a` and view `s_*`):
 * - session unit: the view belongs to the session that is the unit;
 * - viewer unit: the view started at or after the first allocation less the grace, or it
 *   carries the experiment itself (a player-reported cell proves exposure whatever the clocks say).
 */
const EXPOSED = `s_summary_id != '' AND if(
        unit_type = 'session',
        s_session_id = unit_id,
        s_start_ms >= first_ms - {graceMs:Int64} OR has(s_experiment_keys, experiment_key))`;

/**
 * The pre-period: views of the unit's viewer before exposure could begin, within the window,
 * that do not carry this experiment and are not the unit itself (for a session unit).
 */
const PRE_PERIOD = `s_summary_id != ''
        AND s_session_id != unit_id
        AND NOT has(s_experiment_keys, experiment_key)
        AND s_start_ms < first_ms - {graceMs:Int64}
        AND s_start_ms >= first_ms - {preMs:Int64}`;

export function recomputeAllocationsSql(db: string): string {
  return `
INSERT INTO ${db}.experiment_allocations
    (experiment_key, unit_id, unit_type, viewer_id, cell, control, first_allocated_at, last_allocated_at,
     allocations, cells_seen, bucket, namespace, hash_version, seed, definition_digest, digests_seen,
     source, device_class, country, isp, computed_at)
SELECT
    experiment_key, unit_id, unit_type, viewer_id, cell, control, first_allocated_at, last_allocated_at,
    allocations, cells_seen, bucket, namespace, hash_version, seed, definition_digest, digests_seen,
    source, device_class, country, isp, now64(6)
FROM (${firstAllocationsSql(db)})`;
}

export function recomputeSessionsSql(db: string): string {
  return `
INSERT INTO ${db}.experiment_sessions
    (experiment_key, unit_id, summary_id, unit_type, cell, viewer_id, session_id, title_id, start_time,
     end_time, first_allocated_at, device_class, isp, country, play_attempt, started, ebvs, vsf, vpf,
     startup_ms, play_ms, stall_ms, stall_count, avg_bitrate_kbps, switches_up, switches_down, score,
     computed_at)
SELECT
    experiment_key, unit_id, s_summary_id, unit_type, cell, s_viewer_id, s_session_id, s_title_id,
    s_start_time, s_end_time, first_allocated_at, s_device_class, s_isp, s_country, s_play_attempt,
    s_started, s_ebvs, s_vsf, s_vpf, s_startup_ms, s_play_ms, s_stall_ms, s_stall_count,
    s_avg_bitrate_kbps, s_switches_up, s_switches_down, s_score, now64(6)
FROM
(
    SELECT *, toUnixTimestamp64Milli(first_allocated_at) AS first_ms FROM (${firstAllocationsSql(db)})
) AS a
INNER JOIN (${viewerSessionsSql(db)}) AS s ON s.s_viewer_id = a.viewer_id
WHERE ${EXPOSED}`;
}

export function recomputeUnitsSql(db: string): string {
  return `
INSERT INTO ${db}.experiment_units
    (experiment_key, unit_id, unit_type, cell, viewer_id, first_allocated_at, cells_seen,
     ${UNIT_SUM_NAMES.join(', ')},
     ${UNIT_SUM_NAMES.map((n) => `pre_${n}`).join(', ')},
     computed_at)
SELECT
    experiment_key,
    unit_id,
    any(unit_type) AS unit_type,
    any(cell) AS cell,
    any(viewer_id) AS viewer_id,
    any(first_allocated_at) AS first_allocated_at,
    any(cells_seen) AS cells_seen,
    ${unitSumsSql('exposed', '')},
    ${unitSumsSql('pre', 'pre_')},
    now64(6) AS computed_at
FROM
(
    SELECT *, ${EXPOSED} AS exposed, ${PRE_PERIOD} AS pre
    FROM
    (
        SELECT *, toUnixTimestamp64Milli(first_allocated_at) AS first_ms FROM (${firstAllocationsSql(db)})
    ) AS a
    LEFT JOIN (${viewerSessionsSql(db)}) AS s ON s.s_viewer_id = a.viewer_id
)
GROUP BY experiment_key, unit_id`;
}

/** Recomputes every derived row of the given viewers. Idempotent: rows replace rows. */
export async function recomputeViewers(
  client: ClickHouseClient,
  db: string,
  viewers: readonly string[],
  settings: RecomputeSettings,
): Promise<void> {
  const statements = [recomputeAllocationsSql(db), recomputeSessionsSql(db), recomputeUnitsSql(db)];
  for (let i = 0; i < viewers.length; i += settings.batchViewers) {
    const query_params = {
      viewers: viewers.slice(i, i + settings.batchViewers),
      graceMs: settings.exposureGraceMs,
      preMs: settings.prePeriodMs,
    };
    for (const query of statements) {
      // join_use_nulls = 0: a unit without views joins default values (summary id ''), which
      // the exposure and pre-period conditions exclude. Aggregates share their names with the
      // columns they aggregate: read the column, not the alias, inside expressions.
      await client.command({
        query,
        query_params,
        clickhouse_settings: { join_use_nulls: 0, prefer_column_name_to_alias: 1 },
      });
    }
  }
}
