/**
 * The standard normal distribution.
 *
 * - CDF: W. J. Cody, "Rational Chebyshev approximations for the error function", Math.
 *   Comp. 23 (1969) 631-637, with the coefficients of Cody's SPECFUN (ACM TOMS Algorithm
 *   715, 1993) as R's pnorm uses them: three ranges, relative accuracy near 1e-16 in both
 *   tails (the upper tail is computed directly, never as 1 - lower).
 * - Quantile: M. J. Wichura, "Algorithm AS 241: The percentage points of the normal
 *   distribution", Applied Statistics 37(3) (1988) 477-484, PPND16 (about 1e-16 relative).
 */
// biome-ignore-all lint/correctness/noPrecisionLoss: coefficients are kept digit for digit as published, so they can be checked against the source; the nearest double is what runs.
import { invalid } from './errors.ts';

const SQRT_32 = 5.656854249492380195206754896838;
const ONE_OVER_SQRT_2PI = 0.398942280401432677939946059934;

// Cody: |x| <= 0.67448975 (erf-like rational function).
const A = [2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582, 18154.981253343561249];
const A4 = 0.065682337918207449113;
const B = [47.20258190468824187, 976.09855173777669322, 10260.932208618978205, 45507.789335026729956];
// Cody: 0.67448975 < |x| <= sqrt(32).
const C = [
  0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979, 597.27027639480026226,
  2494.5375852903726711, 6848.1904505362823326, 11602.651437647350124, 9842.7148383839780218,
];
const C8 = 1.0765576773720192317e-8;
const D = [
  22.266688044328115691, 235.38790178262499861, 1519.377599407554805, 6485.558298266760755,
  18615.571640885098091, 34900.952721145977266, 38912.003286093271411, 19685.429676859990727,
];
// Cody: |x| > sqrt(32) (asymptotic expansion in 1/x²).
const P = [
  0.21589853405795699, 0.1274011611602473639, 0.022235277870649807, 0.001421619193227893466,
  2.9112874951168792e-5,
];
const P5 = 0.02307344176494017303;
const Q = [1.28426009614491121, 0.468238212480865118, 0.0659881378689285515, 0.00378239633202758244];
const Q4 = 7.29751555083966205e-5;

/**
 * exp(-x²/2) without the rounding error of squaring a large x: split x into a part with
 * few bits (x rounded down to 1/16) and a small remainder, as Cody's code does.
 */
function gaussianFactor(x: number): number {
  const xsq = Math.trunc(x * 16) / 16;
  const del = (x - xsq) * (x + xsq);
  return Math.exp(-xsq * xsq * 0.5) * Math.exp(-del * 0.5);
}

/** Upper tail Φ(-|x|) = 1 - Φ(|x|) for |x| > 0.67448975. */
function tailBeyond(y: number): number {
  if (y <= SQRT_32) {
    let num = C8 * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + (C[i] as number)) * y;
      den = (den + (D[i] as number)) * y;
    }
    const r = (num + (C[7] as number)) / (den + (D[7] as number));
    return gaussianFactor(y) * r;
  }
  if (y >= 38.5) return 0; // below the smallest double
  const xsq = 1 / (y * y);
  let num = P5 * xsq;
  let den = xsq;
  for (let i = 0; i < 4; i++) {
    num = (num + (P[i] as number)) * xsq;
    den = (den + (Q[i] as number)) * xsq;
  }
  let r = (xsq * (num + (P[4] as number))) / (den + Q4);
  r = (ONE_OVER_SQRT_2PI - r) / y;
  return gaussianFactor(y) * r;
}

/** Φ(x) = P(Z <= x). */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) throw invalid('normalCdf of NaN');
  const y = Math.abs(x);
  if (y <= 0.67448975) {
    let num = 0;
    let den = 0;
    if (y > 1.1e-16) {
      const xsq = x * x;
      num = A4 * xsq;
      den = xsq;
      for (let i = 0; i < 3; i++) {
        num = (num + (A[i] as number)) * xsq;
        den = (den + (B[i] as number)) * xsq;
      }
    }
    return 0.5 + (x * (num + (A[3] as number))) / (den + (B[3] as number));
  }
  const tail = tailBeyond(y);
  return x > 0 ? 1 - tail : tail;
}

/** 1 - Φ(x) = P(Z > x), accurate when small. */
export function normalSf(x: number): number {
  return normalCdf(-x);
}

/** Two-sided p-value 2·(1 - Φ(|z|)). */
export function normalTwoSidedP(z: number): number {
  return Math.min(1, 2 * normalCdf(-Math.abs(z)));
}

/** φ(x), the density. */
export function normalPdf(x: number): number {
  return ONE_OVER_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/** Φ⁻¹(p) for 0 < p < 1 (±Infinity at 0 and 1): Wichura AS 241, PPND16. */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw invalid(`normalQuantile needs 0 <= p <= 1, got ${p}`, { p });
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r + 67265.770927008700853) * r +
          45921.953931549871457) *
          r +
          13731.693765509461125) *
          r +
          1971.5909503065514427) *
          r +
          133.14166789178437745) *
          r +
          3.387132872796366608)) /
      (((((((r * 5226.495278852854561 + 28729.085735721942674) * r + 39307.89580009271061) * r +
        21213.794301586595867) *
        r +
        5394.1960214247511077) *
        r +
        687.1870074920579083) *
        r +
        42.313330701600911252) *
        r +
        1)
    );
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value =
      (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r + 0.24178072517745061177) * r +
        1.27045825245236838258) *
        r +
        3.64784832476320460504) *
        r +
        5.7694972214606914055) *
        r +
        4.6303378461565452959) *
        r +
        1.42343711074968357734) /
      (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r +
        0.14810397642748007459) *
        r +
        0.68976733498510000455) *
        r +
        1.6763848301838038494) *
        r +
        2.05319162663775882187) *
        r +
        1);
  } else {
    r -= 5;
    value =
      (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r +
        0.026532189526576123093) *
        r +
        0.29656057182850489123) *
        r +
        1.7848265399172913358) *
        r +
        5.4637849111641143699) *
        r +
        6.6579046435011037772) /
      (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r +
        7.868691311456132591e-4) *
        r +
        0.0148753612908506148525) *
        r +
        0.13692988092273580531) *
        r +
        0.59983220655588793769) *
        r +
        1);
  }
  return q < 0 ? -value : value;
}
