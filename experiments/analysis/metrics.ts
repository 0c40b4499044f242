/**
 * How each QoE metric of the vocabulary (experiments/definitions/vocabulary.ts, DESIGN.md
 * "QoE metrics") is measured per experiment unit: as a ratio of two of the unit's sums in
 * `experiment_units` (processors/outcomes/unit-sums.ts). The unit is the randomisation
 * unit, so units are independent and unit-level tests are valid whatever the metric.
 *
 * - `mean` metrics: the unit's value is num / den (its mean play delay, its rebuffer ratio,
 *   ...), defined when den > 0; cells are compared with Welch's t-test on unit values. The
 *   estimand is the average over units, each unit weighted once.
 * - `proportion` metrics (EBVS, VSF, VPF): with session units each unit is one Bernoulli
 *   trial (did the session exit before video start?) and cells are compared with the
 *   two-proportion z-test. With viewer units a viewer's sessions are correlated trials, the
 *   z-test's independence fails and its p-values would be too small (Deng, Knoblich & Lu,
 *   "Applying the Delta Method in Metric Analytics", KDD 2018, §2); the viewer's rate is then
 *   a mean metric and Welch's test is used.
 */
import type { MetricName, UnitType } from '../definitions/vocabulary.ts';

export type MetricShape = 'mean' | 'proportion';

export interface MetricMeasure {
  readonly shape: MetricShape;
  /** SQL numerator over the unit sums; `p` is '' (exposed sessions) or 'pre_' (pre-period). */
  readonly num: (p: string) => string;
  readonly den: (p: string) => string;
  /** Unit of the value, for tables. */
  readonly unit: string;
}

const col =
  (name: string) =>
  (p: string): string =>
    `${p}${name}`;

export const METRIC_MEASURES: Readonly<Record<MetricName, MetricMeasure>> = {
  startupMs: { shape: 'mean', num: col('startup_ms'), den: col('startups'), unit: 'ms' },
  ebvs: { shape: 'proportion', num: col('ebvs'), den: col('attempts'), unit: 'share of attempts' },
  vsf: { shape: 'proportion', num: col('vsf'), den: col('attempts'), unit: 'share of attempts' },
  vpf: { shape: 'proportion', num: col('vpf'), den: col('plays'), unit: 'share of plays' },
  rebufferRatio: {
    shape: 'mean',
    num: col('stall_ms'),
    den: (p) => `(${p}play_ms + ${p}stall_ms)`,
    unit: 'stall / (play + stall)',
  },
  stallsPerHour: {
    shape: 'mean',
    num: (p) => `(${p}stall_count * 3600000)`,
    den: (p) => `(${p}play_ms + ${p}stall_ms)`,
    unit: 'stalls / hour',
  },
  avgBitrateKbps: { shape: 'mean', num: col('bitrate_kbps_ms'), den: col('bitrate_play_ms'), unit: 'kbps' },
  // Per view with a first frame: switches happen only after it.
  switches: { shape: 'mean', num: col('switches'), den: col('plays'), unit: 'per play' },
  score: { shape: 'mean', num: col('score_sum'), den: col('scored'), unit: '0-100' },
};

/** The test a metric gets under a unit type (see the header). */
export type MetricTest = 'welch' | 'two-proportion-z';

export function metricTest(metric: MetricName, unit: UnitType): MetricTest {
  return METRIC_MEASURES[metric].shape === 'proportion' && unit === 'session' ? 'two-proportion-z' : 'welch';
}

/**
 * SQL for a unit's value of the metric (0 where undefined; pair it with `definedSql`): a
 * 0/1 outcome for a Bernoulli unit, num/den otherwise.
 */
export function valueSql(metric: MetricName, unit: UnitType, prefix: '' | 'pre_'): string {
  const m = METRIC_MEASURES[metric];
  if (metricTest(metric, unit) === 'two-proportion-z' && prefix === '') {
    return `if(${m.num(prefix)} > 0, 1., 0.)`;
  }
  return `if(${m.den(prefix)} > 0, toFloat64(${m.num(prefix)}) / ${m.den(prefix)}, 0.)`;
}

/** SQL condition under which the unit has a value of the metric. */
export function definedSql(metric: MetricName, prefix: '' | 'pre_'): string {
  return `${METRIC_MEASURES[metric].den(prefix)} > 0`;
}
