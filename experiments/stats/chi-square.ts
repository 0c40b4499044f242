/**
 * The chi-square distribution with k degrees of freedom: P(χ²_k <= x) = P(k/2, x/2), the
 * regularized lower incomplete gamma (Abramowitz & Stegun 26.4.19), from special.ts.
 * The survival function is computed directly, so SRM p-values of 1e-50 keep their digits.
 */
import { invalid } from './errors.ts';
import { regularizedGamma } from './special.ts';

function requireArgs(x: number, df: number): void {
  if (!(df > 0) || !Number.isFinite(df)) throw invalid(`degrees of freedom must be > 0, got ${df}`, { df });
  if (Number.isNaN(x)) throw invalid('chi-square of NaN');
}

/** P(χ²_df <= x). */
export function chiSquareCdf(x: number, df: number): number {
  requireArgs(x, df);
  if (x <= 0) return 0;
  return regularizedGamma(df / 2, x / 2).lower;
}

/** P(χ²_df > x): the p-value of a chi-square statistic. */
export function chiSquareSf(x: number, df: number): number {
  requireArgs(x, df);
  if (x <= 0) return 1;
  return regularizedGamma(df / 2, x / 2).upper;
}
