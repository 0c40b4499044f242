/**
 * Pearson's chi-square goodness-of-fit statistic and its p-value, for the assignment tests
 * (bucket uniformity, cell split against weights, independence of the salted hashes).
 * Test support only: the statistics library proper lives in experiments/stats/.
 *
 * p-value = P(X >= x) for X ~ chi-square(k) = Q(k/2, x/2), the regularized upper
 * incomplete gamma function, computed as in Press et al., Numerical Recipes (3rd ed.),
 * section 6.2: the series for P(a, x) when x < a + 1, Lentz's continued fraction for
 * Q(a, x) otherwise; ln Gamma by the Lanczos approximation (g = 7, n = 9; the coefficients
 * Numerical Recipes and Boost use), accurate to about 1e-15 for a > 0.5.
 */

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function lnGamma(z: number): number {
  if (z < 0.5) {
    // Reflection: Gamma(z) Gamma(1 - z) = pi / sin(pi z).
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * z))) - lnGamma(1 - z);
  }
  const x = z - 1;
  let sum = LANCZOS[0] as number;
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] as number) / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(sum);
}

const EPS = 1e-15;
const MAX_ITERATIONS = 100_000;

/** P(a, x) by its power series; converges fast for x < a + 1. */
function lowerSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - lnGamma(a));
}

/** Q(a, x) by its continued fraction (modified Lentz); converges fast for x >= a + 1. */
function upperFraction(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - lnGamma(a)) * h;
}

/** Regularized upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a). */
export function upperRegularizedGamma(a: number, x: number): number {
  if (!(a > 0) || x < 0) throw new RangeError(`Q(a, x) needs a > 0 and x >= 0; got a=${a}, x=${x}`);
  if (x === 0) return 1;
  return x < a + 1 ? 1 - lowerSeries(a, x) : upperFraction(a, x);
}

/** P(X >= statistic) for X ~ chi-square with `df` degrees of freedom. */
export function chiSquareSurvival(statistic: number, df: number): number {
  return upperRegularizedGamma(df / 2, statistic / 2);
}

export interface ChiSquareResult {
  readonly statistic: number;
  readonly df: number;
  readonly pValue: number;
}

/** Goodness of fit of `observed` counts to `expected` counts (same length, same total). */
export function chiSquareGoodnessOfFit(
  observed: ArrayLike<number>,
  expected: ArrayLike<number>,
): ChiSquareResult {
  if (observed.length !== expected.length || observed.length < 2) {
    throw new RangeError('observed and expected need the same length, at least 2');
  }
  let statistic = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i] as number;
    const diff = (observed[i] as number) - e;
    statistic += (diff * diff) / e;
  }
  const df = observed.length - 1;
  return { statistic, df, pValue: chiSquareSurvival(statistic, df) };
}

/** Pearson's test of independence on an r x c table of counts (row-major), df = (r-1)(c-1). */
export function chiSquareIndependence(table: readonly (readonly number[])[]): ChiSquareResult {
  const rows = table.length;
  const cols = table[0]?.length ?? 0;
  const rowSums = table.map((row) => row.reduce((s, v) => s + v, 0));
  const colSums = Array.from({ length: cols }, (_, j) => table.reduce((s, row) => s + (row[j] as number), 0));
  const total = rowSums.reduce((s, v) => s + v, 0);
  let statistic = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const e = ((rowSums[i] as number) * (colSums[j] as number)) / total;
      const diff = ((table[i] as readonly number[])[j] as number) - e;
      statistic += (diff * diff) / e;
    }
  }
  const df = (rows - 1) * (cols - 1);
  return { statistic, df, pValue: chiSquareSurvival(statistic, df) };
}
