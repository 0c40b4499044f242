/**
 * Student's t distribution with real (fractional) degrees of freedom ν, as Welch's test needs.
 *
 * - CDF: P(T <= -|t|) = ½ I_x(ν/2, ½) with x = ν / (ν + t²) (Abramowitz & Stegun 26.7.1 via
 *   26.5.27), the incomplete beta from special.ts; 1 - x is passed as t² / (ν + t²) so large
 *   ν does not cancel.
 * - Quantile: invert the same identity with the Halley iteration of [NR] invbetai, then
 *   polish with Newton steps on the CDF itself, which is accurate to ~1e-15 in both tails.
 * - ν > 1e7: Φ(t(1 - 1/(4ν)) / √(1 + t²/(2ν))) (Abramowitz & Stegun 26.7.8, as R's pt used it),
 *   whose error is O(ν⁻²) (< 1e-10 relative for |t| <= 8 at ν = 1e7), because the Lentz
 *   continued fraction loses ~√ν·ε to factors that round to exactly 1 at such ν.
 * - ν = Infinity is the standard normal.
 */
import { invalid, notConverged } from './errors.ts';
import { normalCdf, normalPdf, normalQuantile } from './normal.ts';
import { inverseRegularizedBeta, logBeta, regularizedBeta } from './special.ts';

function requireDf(df: number): void {
  if (!(df > 0)) throw invalid(`degrees of freedom must be > 0, got ${df}`, { df });
}

const LARGE_DF = 1e7;

/** The normal deviate with the same tail as t at large ν (A&S 26.7.8). */
function largeDfDeviate(t: number, df: number): number {
  const v = 1 / (4 * df);
  return (t * (1 - v)) / Math.sqrt(1 + t * t * 2 * v);
}

/** P(T <= t). */
export function studentTCdf(t: number, df: number): number {
  requireDf(df);
  if (Number.isNaN(t)) throw invalid('studentTCdf of NaN');
  if (df === Number.POSITIVE_INFINITY) return normalCdf(t);
  if (df > LARGE_DF) return normalCdf(largeDfDeviate(t, df));
  if (t === 0) return 0.5;
  if (!Number.isFinite(t)) return t > 0 ? 1 : 0;
  const t2 = t * t;
  const x = df / (df + t2);
  const y = t2 / (df + t2);
  const tail = 0.5 * regularizedBeta(x, df / 2, 0.5, y).lower;
  return t < 0 ? tail : 1 - tail;
}

/** P(T > t), accurate when small. */
export function studentTSf(t: number, df: number): number {
  return studentTCdf(-t, df);
}

/** Two-sided p-value P(|T| >= |t|). */
export function studentTTwoSidedP(t: number, df: number): number {
  requireDf(df);
  if (df === Number.POSITIVE_INFINITY) return Math.min(1, 2 * normalCdf(-Math.abs(t)));
  if (df > LARGE_DF) return Math.min(1, 2 * normalCdf(-Math.abs(largeDfDeviate(t, df))));
  if (!Number.isFinite(t)) return 0;
  const t2 = t * t;
  return Math.min(1, regularizedBeta(df / (df + t2), df / 2, 0.5, t2 / (df + t2)).lower);
}

/** The density. */
export function studentTPdf(t: number, df: number): number {
  requireDf(df);
  if (df === Number.POSITIVE_INFINITY) return normalPdf(t);
  return Math.exp(-((df + 1) / 2) * Math.log1p((t * t) / df) - 0.5 * Math.log(df) - logBeta(df / 2, 0.5));
}

/** The t with P(T <= t) = p. */
export function studentTQuantile(p: number, df: number): number {
  requireDf(df);
  if (!(p >= 0 && p <= 1)) throw invalid(`studentTQuantile needs 0 <= p <= 1, got ${p}`, { p });
  if (df === Number.POSITIVE_INFINITY) return normalQuantile(p);
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  if (df > LARGE_DF) {
    // Invert A&S 26.7.8: z²(1 + t²/(2ν)) = t²(1 - 1/(4ν))².
    const z = normalQuantile(p);
    const v = 1 / (4 * df);
    return z / Math.sqrt((1 - v) * (1 - v) - (z * z) / (2 * df));
  }
  // Work in the lower half; 1 - p is exact for p >= 0.5 (Sterbenz).
  const lower = p < 0.5 ? p : 1 - p;
  let t: number;
  if (2 * lower < 0.1) {
    // Far tail: x = ν/(ν+t²) is small and well conditioned.
    const x = inverseRegularizedBeta(2 * lower, df / 2, 0.5);
    t = -Math.sqrt((df * (1 - x)) / x);
  } else {
    // Near the centre: y = t²/(ν+t²) is small; solve I_y(½, ν/2) = 1 - 2p instead.
    const y = inverseRegularizedBeta(1 - 2 * lower, 0.5, df / 2);
    t = -Math.sqrt((df * y) / (1 - y));
  }
  // Newton on F(t) - p: the initial value is already close, so two or three steps reach
  // the accuracy of the CDF (the inverse beta's own tolerance is looser in the far tail).
  for (let i = 0; i < 50; i++) {
    const f = studentTCdf(t, df) - lower;
    const step = f / studentTPdf(t, df);
    if (!Number.isFinite(step)) break;
    t -= step;
    if (Math.abs(step) <= 1e-15 * Math.abs(t)) return p < 0.5 ? t : -t;
  }
  if (!Number.isFinite(t)) throw notConverged('Student t quantile', { p, df });
  return p < 0.5 ? t : -t;
}
