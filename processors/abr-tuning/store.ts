/**
 * ClickHouse for ABR tuning: the audit trail (`config_audit`, 0401_config_audit.sql) and the
 * cohort's QoE before and after a promotion, from `sessions` (0200_sessions.sql).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { clickhouseFailure, queryRows } from '../../infra/clickhouse.ts';
import type { AbrKnobs, Cohort } from '../../schemas/generated/abr-config.ts';
import { type CohortMetrics, MEAN_METRICS, type MeanMetric, type MeanStat } from './guardrails.ts';
import { parseKnobs } from './knobs.ts';
import type { AuditRecord } from './plan.ts';

export const CONFIG_AUDIT_TABLE = 'config_audit';

export async function insertAudit(
  client: ClickHouseClient,
  db: string,
  records: readonly AuditRecord[],
): Promise<void> {
  if (records.length === 0) return;
  try {
    await client.insert({
      table: `${db}.${CONFIG_AUDIT_TABLE}`,
      format: 'JSONEachRow',
      values: records.map((r) => ({
        recorded_at: r.recordedAt,
        config: r.config,
        scope: r.scope,
        action: r.action,
        from_version: r.fromVersion,
        to_version: r.toVersion,
        knobs_before: JSON.stringify(r.knobsBefore),
        knobs_after: JSON.stringify(r.knobsAfter),
        targeting: JSON.stringify(r.targeting),
        experiment_key: r.experimentKey,
        cell: r.cell,
        reason: r.reason,
        evidence: JSON.stringify(r.evidence),
        actor: r.actor,
        source_rank: r.sourceRank,
      })),
    });
  } catch (cause) {
    throw clickhouseFailure(`recording ${records.length} config audit row(s)`, cause);
  }
}

/** An audit row as read back (JSON columns parsed where the reader needs them). */
export interface AuditRow {
  readonly recordedAt: number;
  readonly scope: string;
  readonly action: string;
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly knobsBefore: AbrKnobs | undefined;
  readonly knobsAfter: AbrKnobs | undefined;
  readonly experimentKey: string;
  readonly cell: string;
  readonly reason: string;
  readonly actor: string;
}

interface RawAudit {
  recorded_at: number;
  scope: string;
  action: string;
  from_version: number;
  to_version: number;
  knobs_before: string;
  knobs_after: string;
  experiment_key: string;
  cell: string;
  reason: string;
  actor: string;
}

/** Every audit row of one config (optionally one scope), oldest version first. */
export async function readAudit(
  client: ClickHouseClient,
  db: string,
  config: string,
  scope?: string,
): Promise<AuditRow[]> {
  let rows: RawAudit[];
  try {
    rows = await queryRows<RawAudit>(
      client,
      `SELECT toUnixTimestamp64Milli(recorded_at) AS recorded_at, scope, action, from_version, to_version,
              knobs_before, knobs_after, experiment_key, cell, reason, actor
       FROM ${db}.${CONFIG_AUDIT_TABLE} FINAL
       WHERE config = {config:String} ${scope === undefined ? '' : 'AND scope = {scope:String}'}
       ORDER BY scope, to_version`,
      { config, scope: scope ?? '' },
    );
  } catch (cause) {
    throw clickhouseFailure('reading the config audit', cause);
  }
  return rows.map((r) => ({
    recordedAt: Number(r.recorded_at),
    scope: r.scope,
    action: r.action,
    fromVersion: Number(r.from_version),
    toVersion: Number(r.to_version),
    knobsBefore: parseKnobs(r.knobs_before),
    knobsAfter: parseKnobs(r.knobs_after),
    experimentKey: r.experiment_key,
    cell: r.cell,
    reason: r.reason,
    actor: r.actor,
  }));
}

/** Per-session expression behind each mean metric (NULL where the session has no value). */
const MEAN_EXPRESSIONS: Readonly<Record<MeanMetric, string>> = {
  startupMs: 'toFloat64(startup_ms)',
  avgBitrateKbps: 'avg_bitrate_kbps',
  rebufferRatio: 'rebuffer_ratio',
  stallsPerHour: 'stalls_per_hour',
  switches: 'toFloat64(switches_up + switches_down)',
  score: 'score',
};

export function cohortMetricsSql(db: string, cohort: Cohort): string {
  const filters = [
    'end_time >= fromUnixTimestamp64Milli({fromMs:Int64})',
    'end_time < fromUnixTimestamp64Milli({toMs:Int64})',
    // Sessions that were in the experiment got their knobs from its cells, not from the config.
    'NOT arrayExists(e -> tupleElement(e, 1) = {experimentKey:String}, experiments)',
  ];
  if (cohort.deviceClasses.length > 0) filters.push('device_class IN {deviceClasses:Array(String)}');
  if (cohort.countries.length > 0) filters.push('country IN {countries:Array(String)}');
  if (cohort.isps.length > 0) filters.push('isp IN {isps:Array(String)}');
  const means = MEAN_METRICS.flatMap((m) => {
    const x = MEAN_EXPRESSIONS[m];
    return [
      `countIf(${x} IS NOT NULL) AS ${m}_n`,
      `avgIf(${x}, ${x} IS NOT NULL) AS ${m}_mean`,
      `varSampIf(${x}, ${x} IS NOT NULL) AS ${m}_var`,
    ];
  });
  return `
SELECT
  count() AS sessions,
  countIf(play_attempt = 1) AS attempts,
  countIf(startup_outcome = 'started') AS plays,
  countIf(ebvs = 1) AS ebvs,
  countIf(vsf = 1) AS vsf,
  countIf(vpf = 1) AS vpf,
  ${means.join(',\n  ')}
FROM ${db}.sessions FINAL
WHERE ${filters.join('\n  AND ')}`;
}

/** The cohort's sessions ending in [fromMs, toMs), outside the experiment itself. */
export async function cohortMetrics(
  client: ClickHouseClient,
  db: string,
  query: {
    readonly cohort: Cohort;
    readonly experimentKey: string;
    readonly fromMs: number;
    readonly toMs: number;
  },
): Promise<CohortMetrics> {
  let rows: Array<Record<string, number | null>>;
  try {
    rows = await queryRows<Record<string, number | null>>(client, cohortMetricsSql(db, query.cohort), {
      fromMs: query.fromMs,
      toMs: query.toMs,
      experimentKey: query.experimentKey,
      deviceClasses: query.cohort.deviceClasses,
      countries: query.cohort.countries,
      isps: query.cohort.isps,
    });
  } catch (cause) {
    throw clickhouseFailure('reading cohort QoE for the guardrail watch', cause);
  }
  const row = rows[0] ?? {};
  const n = (key: string): number => Number(row[key] ?? 0);
  const means: Partial<Record<MeanMetric, MeanStat>> = {};
  for (const m of MEAN_METRICS) {
    const count = n(`${m}_n`);
    const mean = row[`${m}_mean`];
    const variance = row[`${m}_var`];
    if (
      count >= 2 &&
      typeof mean === 'number' &&
      Number.isFinite(mean) &&
      typeof variance === 'number' &&
      Number.isFinite(variance)
    ) {
      means[m] = { n: count, mean, variance };
    }
  }
  return {
    sessions: n('sessions'),
    attempts: n('attempts'),
    plays: n('plays'),
    ebvs: n('ebvs'),
    vsf: n('vsf'),
    vpf: n('vpf'),
    means,
  };
}
