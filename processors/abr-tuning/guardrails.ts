/**
 * The guardrail watch after a promotion. Pure: the cohort's metrics before and after the
 * promotion in, a verdict per guardrail out.
 *
 * Each guardrail of the experiment (metric, better, margin) is a non-inferiority check, as in
 * the analysis' decision rule (experiments/stats/decision.ts), but on a before/after
 * comparison of the cohort instead of a randomised one: with improvement g = sign x
 * (after - before) (positive = better) and the margin m (absolute, or relative to the
 * before value), a guardrail is BREACHED when even the favourable one-sided bound of g at
 * alpha is below -m, i.e. the data leave no reasonable doubt that the metric got worse by
 * more than the margin. Rolling back on the point estimate alone would undo good promotions
 * on noise; this errs the other way and needs the harm to be clear.
 *
 * - Proportions (ebvs, vsf over attempts; vpf over plays): Newcombe's hybrid score interval
 *   for the difference of two proportions (confidence.ts).
 * - Means of per-session values (startupMs, avgBitrateKbps, rebufferRatio, stallsPerHour,
 *   switches, score): Welch's t with Welch-Satterthwaite degrees of freedom (Welch,
 *   Biometrika 1947), from n, mean and sample variance.
 *
 * A before/after comparison is not an experiment: anything else that changed at the same
 * time (the evening peak, an OCA outage) moves the numbers too. The margin and the
 * favourable bound keep such drift from triggering rollbacks unless it is large; the
 * experiment itself remains the evidence that the knobs help.
 */
import type { EffectSize } from '../../experiments/definitions/schema.ts';
import type { Direction, MetricName } from '../../experiments/definitions/vocabulary.ts';
import { studentTQuantile } from '../../experiments/stats/index.ts';
import { newcombeDifferenceBounds } from '../steering/confidence.ts';

export interface MeanStat {
  readonly n: number;
  readonly mean: number;
  /** Sample variance (n - 1 denominator). */
  readonly variance: number;
}

/** One side (before or after) of the cohort. */
export interface CohortMetrics {
  readonly sessions: number;
  readonly attempts: number;
  readonly plays: number;
  readonly ebvs: number;
  readonly vsf: number;
  readonly vpf: number;
  readonly means: Readonly<Partial<Record<MeanMetric, MeanStat>>>;
}

export const MEAN_METRICS = [
  'startupMs',
  'avgBitrateKbps',
  'rebufferRatio',
  'stallsPerHour',
  'switches',
  'score',
] as const satisfies readonly MetricName[];
export type MeanMetric = (typeof MEAN_METRICS)[number];

export interface Guardrail {
  readonly metric: MetricName;
  readonly better: Direction;
  readonly margin: EffectSize;
}

export type GuardrailStatus = 'breach' | 'pass' | 'insufficient';

export interface GuardrailResult {
  readonly metric: MetricName;
  readonly status: GuardrailStatus;
  readonly before: number | null;
  readonly after: number | null;
  /** after - before */
  readonly difference: number | null;
  /** The allowed degradation, in the metric's unit. */
  readonly margin: number | null;
  /** The most favourable reading of the improvement (positive = better) at alpha. */
  readonly favourableBound: number | null;
  readonly nBefore: number;
  readonly nAfter: number;
}

export interface GuardrailVerdict {
  readonly breached: readonly GuardrailResult[];
  readonly results: readonly GuardrailResult[];
}

export interface WatchParams {
  /** One-sided level of each bound (the experiment's analysis.alpha). */
  readonly alpha: number;
  /** Sessions each side needs before any guardrail is judged. */
  readonly minSessions: number;
}

function resolveMargin(margin: EffectSize, beforeValue: number): number {
  if (margin.absolute !== undefined) return Math.abs(margin.absolute);
  return Math.abs(margin.relative ?? 0) * Math.abs(beforeValue);
}

function proportion(m: CohortMetrics, metric: MetricName): { successes: number; n: number } | undefined {
  switch (metric) {
    case 'ebvs':
      return { successes: m.ebvs, n: m.attempts };
    case 'vsf':
      return { successes: m.vsf, n: m.attempts };
    case 'vpf':
      return { successes: m.vpf, n: m.plays };
    default:
      return undefined;
  }
}

function isMeanMetric(metric: MetricName): metric is MeanMetric {
  return (MEAN_METRICS as readonly string[]).includes(metric);
}

function evaluateOne(
  g: Guardrail,
  before: CohortMetrics,
  after: CohortMetrics,
  p: WatchParams,
): GuardrailResult {
  const sign = g.better === 'higher' ? 1 : -1;
  const insufficient = (
    nBefore: number,
    nAfter: number,
    b: number | null,
    a: number | null,
  ): GuardrailResult => ({
    metric: g.metric,
    status: 'insufficient',
    before: b,
    after: a,
    difference: b !== null && a !== null ? a - b : null,
    margin: null,
    favourableBound: null,
    nBefore,
    nAfter,
  });
  const prop = proportion(before, g.metric);
  if (prop !== undefined) {
    const post = proportion(after, g.metric) as { successes: number; n: number };
    const b = prop.n > 0 ? prop.successes / prop.n : null;
    const a = post.n > 0 ? post.successes / post.n : null;
    if (b === null || a === null || prop.n < p.minSessions || post.n < p.minSessions) {
      return insufficient(prop.n, post.n, b, a);
    }
    const bounds = newcombeDifferenceBounds({ rate: a, n: post.n }, { rate: b, n: prop.n }, p.alpha);
    if (bounds === null) return insufficient(prop.n, post.n, b, a);
    // Favourable end of g = sign x (after - before).
    const favourable = sign === 1 ? bounds.upper : -bounds.lower;
    const margin = resolveMargin(g.margin, b);
    return {
      metric: g.metric,
      status: favourable < -margin ? 'breach' : 'pass',
      before: b,
      after: a,
      difference: a - b,
      margin,
      favourableBound: favourable,
      nBefore: prop.n,
      nAfter: post.n,
    };
  }
  if (!isMeanMetric(g.metric)) return insufficient(0, 0, null, null);
  const mb = before.means[g.metric];
  const ma = after.means[g.metric];
  if (
    mb === undefined ||
    ma === undefined ||
    mb.n < Math.max(2, p.minSessions) ||
    ma.n < Math.max(2, p.minSessions)
  ) {
    return insufficient(mb?.n ?? 0, ma?.n ?? 0, mb?.mean ?? null, ma?.mean ?? null);
  }
  const vb = mb.variance / mb.n;
  const va = ma.variance / ma.n;
  const se2 = vb + va;
  const difference = ma.mean - mb.mean;
  const margin = resolveMargin(g.margin, mb.mean);
  let favourable: number;
  if (se2 === 0) {
    favourable = sign * difference;
  } else {
    // Welch-Satterthwaite degrees of freedom.
    const df = (se2 * se2) / ((vb * vb) / (mb.n - 1) + (va * va) / (ma.n - 1));
    const q = studentTQuantile(1 - p.alpha, df);
    favourable = sign * difference + q * Math.sqrt(se2);
  }
  return {
    metric: g.metric,
    status: favourable < -margin ? 'breach' : 'pass',
    before: mb.mean,
    after: ma.mean,
    difference,
    margin,
    favourableBound: favourable,
    nBefore: mb.n,
    nAfter: ma.n,
  };
}

export function evaluateGuardrails(
  guardrails: readonly Guardrail[],
  before: CohortMetrics,
  after: CohortMetrics,
  p: WatchParams,
): GuardrailVerdict {
  if (before.sessions < p.minSessions || after.sessions < p.minSessions) {
    const results = guardrails.map(
      (g): GuardrailResult => ({
        metric: g.metric,
        status: 'insufficient',
        before: null,
        after: null,
        difference: null,
        margin: null,
        favourableBound: null,
        nBefore: before.sessions,
        nAfter: after.sessions,
      }),
    );
    return { breached: [], results };
  }
  const results = guardrails.map((g) => evaluateOne(g, before, after, p));
  return { breached: results.filter((r) => r.status === 'breach'), results };
}

function num(x: number | null): string {
  if (x === null) return 'n/a';
  if (Math.abs(x) >= 100) return Math.round(x).toString();
  return Number(x.toPrecision(3)).toString();
}

/** "avgBitrateKbps 2800 after vs 3200 before (-400; at best -350, beyond the margin 160)". */
export function describeBreach(r: GuardrailResult): string {
  return (
    `${r.metric} ${num(r.after)} after vs ${num(r.before)} before ` +
    `(${r.difference !== null && r.difference >= 0 ? '+' : ''}${num(r.difference)}; ` +
    `even the favourable bound ${num(r.favourableBound)} is beyond the margin ${num(r.margin)}; ` +
    `n ${r.nBefore} before, ${r.nAfter} after)`
  );
}
