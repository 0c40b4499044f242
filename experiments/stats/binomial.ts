/**
 * The binomial distribution Bin(n, p), as the order-statistic confidence interval for a
 * quantile needs it: P(X <= k) = I_{1-p}(n - k, k + 1) (Abramowitz & Stegun 26.5.24),
 * from the incomplete beta in special.ts, and its discrete inverses.
 */
import { invalid, requireCount } from './errors.ts';
import { regularizedBeta } from './special.ts';

function requireArgs(n: number, p: number): void {
  requireCount('n', n, 0);
  if (!(p >= 0 && p <= 1)) throw invalid(`binomial p must be in [0, 1], got ${p}`, { p });
}

/** P(X <= k) and P(X > k) for X ~ Bin(n, p), both accurate when small. */
function tails(k: number, n: number, p: number): { lower: number; upper: number } {
  if (k < 0) return { lower: 0, upper: 1 };
  if (k >= n) return { lower: 1, upper: 0 };
  if (p === 0) return { lower: 1, upper: 0 };
  if (p === 1) return { lower: 0, upper: 1 };
  // P(X <= k) = I_{1-p}(n-k, k+1); its complement is P(X > k).
  return regularizedBeta(1 - p, n - k, k + 1, p);
}

/** P(X <= k). */
export function binomialCdf(k: number, n: number, p: number): number {
  requireArgs(n, p);
  return tails(Math.floor(k), n, p).lower;
}

/** P(X > k). */
export function binomialSf(k: number, n: number, p: number): number {
  requireArgs(n, p);
  return tails(Math.floor(k), n, p).upper;
}

/** Smallest k in [0, n] with pred(k) true, for a predicate monotone in k. */
function smallestK(n: number, pred: (k: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (pred(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The smallest k with P(X <= k) >= q (scipy's binom.ppf). */
export function binomialQuantile(q: number, n: number, p: number): number {
  requireArgs(n, p);
  if (!(q >= 0 && q <= 1)) throw invalid(`binomial quantile level must be in [0, 1], got ${q}`, { q });
  if (q === 0) return -1; // scipy convention: ppf(0) = -1 for a distribution starting at 0
  return smallestK(n, (k) => tails(k, n, p).lower >= q);
}

/** The smallest k with P(X > k) <= q (scipy's binom.isf). */
export function binomialUpperQuantile(q: number, n: number, p: number): number {
  requireArgs(n, p);
  if (!(q >= 0 && q <= 1)) throw invalid(`binomial quantile level must be in [0, 1], got ${q}`, { q });
  return smallestK(n, (k) => tails(k, n, p).upper <= q);
}
