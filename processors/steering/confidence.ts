/**
 * Confidence bounds for rates compared across OCAs (steering) and across time (the ABR
 * guardrail watch). Pure.
 *
 * - One proportion: the Wilson score interval (E. B. Wilson, "Probable inference, the law
 *   of succession, and statistical inference", JASA 22, 1927). Unlike the Wald interval it
 *   stays inside [0, 1] and keeps its coverage for rates near 0, where VSF rates and
 *   rebuffer ratios live.
 * - A difference of two independent proportions: Newcombe's hybrid score interval, his
 *   method 10 (R. G. Newcombe, "Interval estimation for the difference between independent
 *   proportions: comparison of eleven methods", Statistics in Medicine 17, 1998), built
 *   from the two Wilson intervals: L = p1 - p2 - sqrt((p1 - l1)^2 + (u2 - p2)^2),
 *   U = p1 - p2 + sqrt((u1 - p1)^2 + (p2 - l2)^2). statsmodels calls it
 *   `confint_proportions_2indep(..., method='newcomb')`; the tests check against it.
 *
 * Every bound here is ONE-sided at `alpha`: a one-sided bound at alpha is one end of the
 * two-sided interval at 2·alpha (so z = Φ⁻¹(1 - alpha)).
 *
 * Rates that are not counts of independent trials (the rebuffer ratio, stall time over
 * watch time) are passed as `rate` with `n` = the sessions behind them. For the mean of a
 * per-session quantity bounded in [0, 1] with mean p, the variance is at most p(1 - p)
 * (Bhatia & Davis, "A better bound on the variance", Amer. Math. Monthly 107, 2000), so
 * the binomial-shaped score bound with n sessions is conservative for it: it never claims
 * more certainty than the sessions give.
 */
import { normalQuantile } from '../../experiments/stats/index.ts';

export interface RateSample {
  /** The observed rate, in [0, 1]. */
  readonly rate: number;
  /** Independent units behind it (attempts, plays, sessions). */
  readonly n: number;
}

export interface Bounds {
  readonly lower: number;
  readonly upper: number;
}

/** z of a one-sided bound at alpha. */
export function oneSidedZ(alpha: number): number {
  return normalQuantile(1 - alpha);
}

/** Wilson score bounds of one rate, each one-sided at alpha. Null without units. */
export function wilsonBounds(sample: RateSample, alpha: number): Bounds | null {
  const { n } = sample;
  if (!(n > 0)) return null;
  const p = Math.min(1, Math.max(0, sample.rate));
  const z = oneSidedZ(alpha);
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lower: Math.max(0, center - half), upper: Math.min(1, center + half) };
}

/**
 * Newcombe's hybrid score bounds of `a.rate - b.rate`, each one-sided at alpha. Null when
 * either side has no units.
 */
export function newcombeDifferenceBounds(a: RateSample, b: RateSample, alpha: number): Bounds | null {
  const wa = wilsonBounds(a, alpha);
  const wb = wilsonBounds(b, alpha);
  if (wa === null || wb === null) return null;
  const pa = Math.min(1, Math.max(0, a.rate));
  const pb = Math.min(1, Math.max(0, b.rate));
  const difference = pa - pb;
  return {
    lower: difference - Math.sqrt((pa - wa.lower) ** 2 + (wb.upper - pb) ** 2),
    upper: difference + Math.sqrt((wa.upper - pa) ** 2 + (pb - wb.lower) ** 2),
  };
}
