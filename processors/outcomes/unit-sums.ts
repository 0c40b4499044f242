/**
 * The per-unit sums of `experiment_units` (infra/migrations/0300_experiment_outcomes.sql),
 * each an aggregate over a unit's session views. Every QoE metric an experiment analyses is
 * a ratio of two of these sums (experiments/analysis/metrics.ts), so this list is the
 * contract between the outcomes processor, which writes the sums, and the analysis, which
 * reads them. The same sums over the pre-period carry the prefix `pre_`.
 *
 * Expressions read the columns of `experiment_viewer_sessions` under the prefix `s_`, and
 * `{cond}` stands for the condition that selects the views summed (exposed or pre-period).
 */

export const UNIT_SUMS = {
  sessions: 'countIf({cond})',
  attempts: 'sumIf(s_play_attempt, {cond})',
  plays: 'sumIf(s_started, {cond})',
  ebvs: 'sumIf(s_ebvs, {cond})',
  vsf: 'sumIf(s_vsf, {cond})',
  vpf: 'sumIf(s_vpf, {cond})',
  startups: 'countIf({cond} AND s_startup_ms IS NOT NULL)',
  startup_ms: 'toInt64(sumIf(ifNull(s_startup_ms, 0), {cond}))',
  play_ms: 'toInt64(sumIf(s_play_ms, {cond}))',
  stall_ms: 'toInt64(sumIf(s_stall_ms, {cond}))',
  stall_count: 'sumIf(s_stall_count, {cond})',
  // Time-weighted bitrate: sum of (avg bitrate x play time) over views with a known bitrate.
  bitrate_kbps_ms:
    'sumIf(ifNull(s_avg_bitrate_kbps, 0) * s_play_ms, {cond} AND s_avg_bitrate_kbps IS NOT NULL)',
  bitrate_play_ms: 'toInt64(sumIf(s_play_ms, {cond} AND s_avg_bitrate_kbps IS NOT NULL))',
  switches: 'sumIf(s_switches_up + s_switches_down, {cond})',
  score_sum: 'sumIf(ifNull(s_score, 0), {cond} AND s_score IS NOT NULL)',
  scored: 'countIf({cond} AND s_score IS NOT NULL)',
} as const;

export type UnitSum = keyof typeof UNIT_SUMS;
export const UNIT_SUM_NAMES = Object.keys(UNIT_SUMS) as UnitSum[];

/** `sum AS name` for every unit sum, over the views selected by `cond`, named with `prefix`. */
export function unitSumsSql(cond: string, prefix: '' | 'pre_'): string {
  return UNIT_SUM_NAMES.map(
    (name) => `${UNIT_SUMS[name].replaceAll('{cond}', `(${cond})`)} AS ${prefix}${name}`,
  ).join(',\n    ');
}
