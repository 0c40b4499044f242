/**
 * Order statistics read by rank from a histogram (value, count) of an integer-valued metric,
 * the play delay in ms: the histogram is the exact empirical distribution, so x_(k) is the
 * value whose cumulative count first reaches k. The exact one-cell quantile interval is then
 * [x_(r), x_(s)] with the ranks r, s of experiments/stats quantiles.ts (Conover, "Practical
 * Nonparametric Statistics", 3rd ed. 1999, §3.2), computed by the same binomial functions,
 * at O(distinct values) instead of materialising and copying n values (quantiles.ts takes
 * the raw sample; see README.md, gaps). quantileIntervalFromHistogram equals
 * quantileConfidenceInterval on the expanded sample exactly (order-statistics.test.ts).
 */
import {
  binomialCdf,
  binomialQuantile,
  binomialUpperQuantile,
  type QuantileInterval,
} from '../stats/index.ts';
import type { Histogram } from './queries.ts';

export interface RankedHistogram {
  readonly values: readonly number[];
  /** cumulative[i] = counts[0] + ... + counts[i]. */
  readonly cumulative: readonly number[];
  readonly n: number;
}

export function ranked(h: Histogram): RankedHistogram {
  const cumulative: number[] = [];
  let n = 0;
  for (const c of h.counts) {
    n += c;
    cumulative.push(n);
  }
  return { values: h.values, cumulative, n };
}

/** x_(k), the k-th smallest value (1 <= k <= n), by binary search on the cumulative counts. */
export function orderStatistic(h: RankedHistogram, k: number): number {
  let lo = 0;
  let hi = h.cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((h.cumulative[mid] as number) >= k) hi = mid;
    else lo = mid + 1;
  }
  return h.values[lo] as number;
}

/**
 * The rank of the sample quantile, ⌈n·q⌉ (Hyndman & Fan 1996, definition 1), with the guard
 * of quantiles.ts for n·q that is an integer up to rounding (0.9 · 10 = 9.000000000000002).
 */
export function quantileRank(n: number, q: number): number {
  const nq = n * q;
  const rounded = Math.round(nq);
  const m = Math.abs(nq - rounded) < 1e-9 * Math.max(1, nq) ? rounded : Math.ceil(nq);
  return Math.min(n, Math.max(1, m));
}

/** The sample q-quantile and its exact distribution-free interval at level >= 1 - alpha. */
export function quantileIntervalFromHistogram(
  h: RankedHistogram,
  q: number,
  alpha: number,
): QuantileInterval {
  const n = h.n;
  const tail = alpha / 2;
  // 0-based indices as in Conover §3.2 and quantiles.ts: lower = x[ppf(tail) - 1], upper = x[isf(tail)].
  const lowIndex = binomialQuantile(tail, n, q) - 1;
  const highIndex = binomialUpperQuantile(tail, n, q);
  const rank = quantileRank(n, q);
  return {
    q,
    n,
    estimate: orderStatistic(h, rank),
    rank,
    alpha,
    ci: {
      lower: lowIndex >= 0 ? orderStatistic(h, lowIndex + 1) : Number.NEGATIVE_INFINITY,
      upper: highIndex < n ? orderStatistic(h, highIndex + 1) : Number.POSITIVE_INFINITY,
    },
    lowerRank: lowIndex + 1,
    upperRank: highIndex + 1,
    coverage: binomialCdf(Math.min(highIndex, n), n, q) - (lowIndex >= 0 ? binomialCdf(lowIndex, n, q) : 0),
  };
}
