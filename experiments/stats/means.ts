/**
 * Difference in means between two cells from summary statistics (n, mean, sample variance),
 * so it runs on ClickHouse aggregates (count, avg, varSamp) without the raw rows.
 *
 * - Welch's unequal-variance t-test: B. L. Welch, "The generalization of 'Student's'
 *   problem when several different population variances are involved", Biometrika 34
 *   (1947) 28-35; degrees of freedom by the Welch-Satterthwaite equation (Satterthwaite,
 *   Biometrics Bulletin 2, 1946). The interval for the difference uses the same t quantile.
 * - Relative lift μ_T/μ_C - 1 with a delta-method standard error: Deng, Knoblich & Lu,
 *   "Applying the Delta Method in Metric Analytics", KDD 2018, §3 (ratio of two independent
 *   means); also Kohavi, Tang & Xu, "Trustworthy Online Controlled Experiments" (2020), ch. 18.
 *   Var(Ȳ_T/Ȳ_C) ≈ s_T²/(n_T μ_C²) + μ_T² s_C²/(n_C μ_C⁴); the interval is normal (z), as the
 *   delta method is asymptotic.
 */
import { invalid, requireCount, requireFinite, requireNonNegative, requireOpenUnit } from './errors.ts';
import { normalQuantile } from './normal.ts';
import { studentTQuantile, studentTTwoSidedP } from './student-t.ts';
import type { Interval, MeanSummary, RelativeLift } from './types.ts';

export interface MeanTestOptions {
  /** Two-sided significance level; intervals have level 1 - alpha. Default 0.05. */
  readonly alpha?: number;
}

export interface WelchResult {
  readonly alpha: number;
  readonly control: MeanSummary;
  readonly treatment: MeanSummary;
  /** treatment.mean - control.mean */
  readonly difference: number;
  readonly standardError: number;
  readonly degreesOfFreedom: number;
  readonly t: number;
  /** Two-sided p-value. */
  readonly pValue: number;
  /** Interval for the difference at level 1 - alpha. */
  readonly ci: Interval;
  /** Null when the control mean is 0 (the ratio is undefined). */
  readonly relativeLift: RelativeLift | null;
}

export function validateMeanSummary(name: string, s: MeanSummary): void {
  requireCount(`${name}.n`, s.n, 2);
  requireFinite(`${name}.mean`, s.mean);
  requireNonNegative(`${name}.variance`, s.variance);
}

/**
 * Relative lift of `treatment` over `control` by the delta method, for two independent
 * means with the given squared standard errors (variance / n).
 */
export function deltaMethodLift(
  controlMean: number,
  controlSquaredSe: number,
  treatmentMean: number,
  treatmentSquaredSe: number,
  alpha: number,
): RelativeLift | null {
  if (controlMean === 0) return null;
  const ratio = treatmentMean / controlMean;
  const varianceOfRatio =
    treatmentSquaredSe / (controlMean * controlMean) +
    (treatmentMean * treatmentMean * controlSquaredSe) / controlMean ** 4;
  const se = Math.sqrt(varianceOfRatio);
  const z = normalQuantile(1 - alpha / 2);
  const estimate = ratio - 1;
  return { estimate, standardError: se, ci: { lower: estimate - z * se, upper: estimate + z * se } };
}

/** Welch's t-test of treatment vs control from summary statistics. */
export function welchTTest(
  control: MeanSummary,
  treatment: MeanSummary,
  options: MeanTestOptions = {},
): WelchResult {
  const alpha = options.alpha ?? 0.05;
  requireOpenUnit('alpha', alpha);
  validateMeanSummary('control', control);
  validateMeanSummary('treatment', treatment);
  const vc = control.variance / control.n;
  const vt = treatment.variance / treatment.n;
  const se2 = vc + vt;
  if (se2 === 0) {
    throw invalid('Welch test needs a positive variance in at least one cell; both cells are constant', {
      control,
      treatment,
    });
  }
  const se = Math.sqrt(se2);
  // Welch-Satterthwaite: (vc + vt)² / (vc²/(n_c-1) + vt²/(n_t-1)).
  const df = (se2 * se2) / ((vc * vc) / (control.n - 1) + (vt * vt) / (treatment.n - 1));
  const difference = treatment.mean - control.mean;
  const t = difference / se;
  const q = studentTQuantile(1 - alpha / 2, df);
  return {
    alpha,
    control,
    treatment,
    difference,
    standardError: se,
    degreesOfFreedom: df,
    t,
    pValue: studentTTwoSidedP(t, df),
    ci: { lower: difference - q * se, upper: difference + q * se },
    relativeLift: deltaMethodLift(control.mean, vc, treatment.mean, vt, alpha),
  };
}

/** n, mean and sample variance of raw values (for tests and small samples; use aggregates at scale). */
export function summarize(values: ArrayLike<number>): MeanSummary {
  const n = values.length;
  if (n < 2) throw invalid(`summarize needs at least 2 values, got ${n}`, { n });
  // Welford's online algorithm (Welford 1962): no catastrophic cancellation.
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i] as number;
    const delta = x - mean;
    mean += delta / (i + 1);
    m2 += delta * (x - mean);
  }
  return { n, mean, variance: m2 / (n - 1) };
}
