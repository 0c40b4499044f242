/**
 * Quantiles of a per-session metric (play delay p50/p90/p99) and their uncertainty.
 *
 * Point estimate: the sample quantile by inversion of the empirical CDF, x_(m) with
 * m = ⌈n·q⌉ (Hyndman & Fan, "Sample quantiles in statistical packages", Am. Stat. 50(4),
 * 1996, definition 1; numpy method='inverted_cdf'). It is the definition the two methods
 * below are exact for.
 *
 * One cell, exact and distribution-free: the order-statistic interval [x_(r), x_(s)] with
 * the number of observations below the true quantile distributed Bin(n, q), so
 * P(x_(r) <= ξ_q <= x_(s)) >= P(r <= B <= s - 1) >= 1 - alpha for every continuous
 * distribution. r and s follow Conover, "Practical Nonparametric Statistics", 3rd ed.
 * (1999), §3.2 (as scipy.stats.quantile_test(...).confidence_interval does): r is the
 * smallest k with P(B <= k) >= alpha/2, s - 1 the smallest k with P(B > k) <= alpha/2.
 *
 * Two cells: the difference of two quantiles has no exact distribution-free interval, so
 * we use the asymptotic approach: each cell's quantile is asymptotically normal with the
 * Maritz-Jarrett standard error, and the cells are independent, so
 * Δ ± z·√(se_T² + se_C²) (the construction of Price & Bonett, "Distribution-free
 * confidence intervals for difference and ratio of medians", J. Stat. Comput. Simul. 72,
 * 2002, applied to any quantile). The Maritz-Jarrett standard error (Maritz & Jarrett,
 * "A note on estimating the variance of the sample median", JASA 73, 1978) is the exact
 * bootstrap standard error of x_(m): a bootstrap resample's quantile is x_(J) with
 * P(J <= j) = P(Bin(n, j/n) >= m) = I_{j/n}(m, n - m + 1), so the bootstrap distribution
 * is computed in closed form instead of by resampling. The result is therefore fully
 * deterministic (no seed) and costs O(√n) work after sorting.
 */
import { binomialCdf, binomialQuantile, binomialUpperQuantile } from './binomial.ts';
import { invalid, requireOpenUnit } from './errors.ts';
import { deltaMethodLift } from './means.ts';
import { normalQuantile, normalTwoSidedP } from './normal.ts';
import { logBeta, regularizedBeta } from './special.ts';
import type { Interval, RelativeLift } from './types.ts';

export interface QuantileOptions {
  /** Two-sided significance level; intervals have level at least 1 - alpha. Default 0.05. */
  readonly alpha?: number;
  /** Skip sorting when the caller already sorted the sample ascending. */
  readonly presorted?: boolean;
}

export interface QuantileEstimate {
  readonly q: number;
  readonly n: number;
  /** x_(m) with m = ⌈n·q⌉. */
  readonly estimate: number;
  /** 1-based rank m of the estimate. */
  readonly rank: number;
}

export interface QuantileInterval extends QuantileEstimate {
  readonly alpha: number;
  /**
   * [x_(r), x_(s)]. A bound is infinite when n is too small for the requested level on that
   * side (the interval is then one-sided).
   */
  readonly ci: Interval;
  /** 1-based ranks r and s of the bounds (0 and n + 1 stand for unbounded). */
  readonly lowerRank: number;
  readonly upperRank: number;
  /** The exact coverage P(r <= B <= s - 1), always >= 1 - alpha when both bounds are finite. */
  readonly coverage: number;
}

export interface QuantileDifference {
  readonly q: number;
  readonly alpha: number;
  readonly control: QuantileEstimate & { readonly standardError: number };
  readonly treatment: QuantileEstimate & { readonly standardError: number };
  /** treatment quantile - control quantile */
  readonly difference: number;
  readonly standardError: number;
  readonly z: number;
  /** Two-sided p-value of the asymptotic z-test of equal quantiles. */
  readonly pValue: number;
  readonly ci: Interval;
  /** treatment/control - 1 by the delta method; null when the control quantile is 0. */
  readonly relativeLift: RelativeLift | null;
}

function sortedCopy(sample: ArrayLike<number>, presorted: boolean): Float64Array {
  const n = sample.length;
  if (n < 1) throw invalid('a quantile needs at least one observation');
  const out = Float64Array.from(sample);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[i] as number)) {
      throw invalid(`sample values must be finite; index ${i} is ${out[i]}`, { index: i });
    }
  }
  if (!presorted) out.sort();
  else {
    for (let i = 1; i < n; i++) {
      if ((out[i] as number) < (out[i - 1] as number)) {
        throw invalid('presorted sample is not sorted ascending', { index: i });
      }
    }
  }
  return out;
}

function rankOf(n: number, q: number): number {
  // ⌈n·q⌉, guarding n·q that is an integer up to rounding (0.9 * 10 = 9.000000000000002).
  const nq = n * q;
  const rounded = Math.round(nq);
  const m = Math.abs(nq - rounded) < 1e-9 * Math.max(1, nq) ? rounded : Math.ceil(nq);
  return Math.min(n, Math.max(1, m));
}

function estimateFromSorted(sorted: Float64Array, q: number): QuantileEstimate {
  const n = sorted.length;
  const rank = rankOf(n, q);
  return { q, n, estimate: sorted[rank - 1] as number, rank };
}

/** The sample quantile x_(⌈n·q⌉). */
export function sampleQuantile(
  sample: ArrayLike<number>,
  q: number,
  options: QuantileOptions = {},
): QuantileEstimate {
  requireOpenUnit('q', q);
  return estimateFromSorted(sortedCopy(sample, options.presorted ?? false), q);
}

/** Exact distribution-free confidence interval for one cell's q-quantile. */
export function quantileConfidenceInterval(
  sample: ArrayLike<number>,
  q: number,
  options: QuantileOptions = {},
): QuantileInterval {
  const alpha = options.alpha ?? 0.05;
  requireOpenUnit('alpha', alpha);
  requireOpenUnit('q', q);
  const sorted = sortedCopy(sample, options.presorted ?? false);
  const n = sorted.length;
  const tail = alpha / 2;
  // 0-based indices as in Conover §3.2: lower = x[ppf(tail) - 1], upper = x[isf(tail)].
  const lowIndex = binomialQuantile(tail, n, q) - 1;
  const highIndex = binomialUpperQuantile(tail, n, q);
  const lower = lowIndex >= 0 ? (sorted[lowIndex] as number) : Number.NEGATIVE_INFINITY;
  const upper = highIndex < n ? (sorted[highIndex] as number) : Number.POSITIVE_INFINITY;
  const coverage =
    binomialCdf(Math.min(highIndex, n), n, q) - (lowIndex >= 0 ? binomialCdf(lowIndex, n, q) : 0);
  return {
    ...estimateFromSorted(sorted, q),
    alpha,
    ci: { lower, upper },
    lowerRank: lowIndex + 1,
    upperRank: highIndex + 1,
    coverage,
  };
}

/**
 * The Maritz-Jarrett standard error of x_(m), m = ⌈n·q⌉: the exact bootstrap standard
 * deviation, Σ_j W_j (x_(j) - C₁)² with W_j = I_{j/n}(m, n-m+1) - I_{(j-1)/n}(m, n-m+1).
 * Weights outside ±12 standard deviations of Beta(m, n-m+1) are below 1e-30 and skipped.
 */
export function maritzJarrettStandardError(
  sample: ArrayLike<number>,
  q: number,
  options: Pick<QuantileOptions, 'presorted'> = {},
): number {
  requireOpenUnit('q', q);
  const sorted = sortedCopy(sample, options.presorted ?? false);
  return standardErrorFromSorted(sorted, q);
}

function standardErrorFromSorted(sorted: Float64Array, q: number): number {
  return standardErrorOfOrdered({ n: sorted.length, at: (rank) => sorted[rank - 1] as number }, q);
}

/**
 * A sorted sample seen through its order statistics: n and x_(k) for 1 <= k <= n. The
 * Maritz-Jarrett standard error reads only the O(√n) order statistics around the quantile's
 * rank, so a sample held as a histogram (value, count) need not be expanded or copied.
 */
export interface OrderedSample {
  readonly n: number;
  /** x_(rank), 1-based, non-decreasing in rank. */
  at(rank: number): number;
}

function standardErrorOfOrdered(sorted: OrderedSample, q: number): number {
  const n = sorted.n;
  if (n < 2) throw invalid('a quantile standard error needs at least two observations', { n });
  const m = rankOf(n, q);
  const a = m;
  const b = n - m + 1;
  const mean = a / (a + b);
  const sd = Math.sqrt((a * b) / ((a + b) * (a + b) * (a + b + 1)));
  const firstJ = Math.max(1, Math.floor(n * (mean - 12 * sd)));
  const lastJ = Math.min(n, Math.ceil(n * (mean + 12 * sd)));
  const weights = new Float64Array(lastJ - firstJ + 1);
  if (n * sd >= 100) {
    // The Beta(m, n-m+1) density spans >= 100 grid cells per standard deviation: Simpson's
    // rule on each cell [(j-1)/n, j/n] gives W_j to ~1e-11 relative at O(1) cost, where the
    // incomplete beta would need O(√n) continued-fraction terms per cell.
    const logNorm = -logBeta(a, b);
    const density = (t: number): number =>
      t <= 0 || t >= 1 ? 0 : Math.exp((a - 1) * Math.log(t) + (b - 1) * Math.log1p(-t) + logNorm);
    let left = density((firstJ - 1) / n);
    for (let j = firstJ; j <= lastJ; j++) {
      const right = density(j / n);
      weights[j - firstJ] = (left + 4 * density((j - 0.5) / n) + right) / (6 * n);
      left = right;
    }
  } else {
    let previous = firstJ === 1 ? 0 : regularizedBeta((firstJ - 1) / n, a, b).lower;
    for (let j = firstJ; j <= lastJ; j++) {
      const current = j === n ? 1 : regularizedBeta(j / n, a, b).lower;
      weights[j - firstJ] = current - previous;
      previous = current;
    }
  }
  const values = new Float64Array(lastJ - firstJ + 1);
  for (let j = firstJ; j <= lastJ; j++) values[j - firstJ] = sorted.at(j);
  let total = 0;
  let c1 = 0;
  for (let j = firstJ; j <= lastJ; j++) {
    const w = weights[j - firstJ] as number;
    total += w;
    c1 += w * (values[j - firstJ] as number);
  }
  c1 /= total;
  let variance = 0;
  for (let j = firstJ; j <= lastJ; j++) {
    const d = (values[j - firstJ] as number) - c1;
    variance += (weights[j - firstJ] as number) * d * d;
  }
  return Math.sqrt(variance / total);
}

/** Asymptotic interval for the difference of two cells' q-quantiles (treatment - control). */
export function quantileDifference(
  control: ArrayLike<number>,
  treatment: ArrayLike<number>,
  q: number,
  options: QuantileOptions = {},
): QuantileDifference {
  const alpha = options.alpha ?? 0.05;
  requireOpenUnit('alpha', alpha);
  requireOpenUnit('q', q);
  const presorted = options.presorted ?? false;
  const c = sortedCopy(control, presorted);
  const t = sortedCopy(treatment, presorted);
  return differenceOfOrdered(
    { n: c.length, at: (rank) => c[rank - 1] as number },
    { n: t.length, at: (rank) => t[rank - 1] as number },
    q,
    alpha,
  );
}

/**
 * quantileDifference on samples given by their order statistics (e.g. histograms read by
 * rank): the same arithmetic on the same values, so the same result to the last bit, without
 * materialising or copying the samples. The caller guarantees finite, non-decreasing x_(k).
 */
export function quantileDifferenceOrdered(
  control: OrderedSample,
  treatment: OrderedSample,
  q: number,
  options: Pick<QuantileOptions, 'alpha'> = {},
): QuantileDifference {
  const alpha = options.alpha ?? 0.05;
  requireOpenUnit('alpha', alpha);
  requireOpenUnit('q', q);
  for (const [name, s] of [
    ['control', control],
    ['treatment', treatment],
  ] as const) {
    if (!(Number.isInteger(s.n) && s.n >= 1)) throw invalid(`${name} needs at least one observation`);
  }
  return differenceOfOrdered(control, treatment, q, alpha);
}

function estimateOfOrdered(s: OrderedSample, q: number): QuantileEstimate {
  const rank = rankOf(s.n, q);
  return { q, n: s.n, estimate: s.at(rank), rank };
}

function differenceOfOrdered(
  c: OrderedSample,
  t: OrderedSample,
  q: number,
  alpha: number,
): QuantileDifference {
  const ce = { ...estimateOfOrdered(c, q), standardError: standardErrorOfOrdered(c, q) };
  const te = { ...estimateOfOrdered(t, q), standardError: standardErrorOfOrdered(t, q) };
  const difference = te.estimate - ce.estimate;
  const se = Math.sqrt(ce.standardError ** 2 + te.standardError ** 2);
  const z =
    se === 0 ? (difference === 0 ? 0 : Math.sign(difference) * Number.POSITIVE_INFINITY) : difference / se;
  const zq = normalQuantile(1 - alpha / 2);
  return {
    q,
    alpha,
    control: ce,
    treatment: te,
    difference,
    standardError: se,
    z,
    pValue: normalTwoSidedP(z),
    ci: { lower: difference - zq * se, upper: difference + zq * se },
    relativeLift: deltaMethodLift(
      ce.estimate,
      ce.standardError ** 2,
      te.estimate,
      te.standardError ** 2,
      alpha,
    ),
  };
}
