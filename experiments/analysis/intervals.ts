/**
 * One-cell intervals for the results table (a cell's mean or rate with its uncertainty),
 * built on the distribution functions of experiments/stats. The comparisons between cells,
 * which decide, come from experiments/stats itself.
 *
 * - Mean: Student's t interval x̄ ± t_{1-α/2, n-1} · s/√n.
 * - Rate: the Wilson score interval (E. B. Wilson, "Probable inference, the law of
 *   succession, and statistical inference", JASA 22, 1927), recommended over the Wald
 *   interval for rates near 0 such as video start failures by Brown, Cai & DasGupta,
 *   "Interval Estimation for a Binomial Proportion", Statistical Science 16, 2001.
 */

import type { Interval, MeanSummary } from '../stats/index.ts';
import { normalQuantile, studentTQuantile } from '../stats/index.ts';

export function meanInterval(s: MeanSummary, alpha: number): Interval | null {
  if (s.n < 2) return null;
  const half = studentTQuantile(1 - alpha / 2, s.n - 1) * Math.sqrt(s.variance / s.n);
  return { lower: s.mean - half, upper: s.mean + half };
}

export function wilsonInterval(successes: number, n: number, alpha: number): Interval | null {
  if (n < 1) return null;
  const z = normalQuantile(1 - alpha / 2);
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}
