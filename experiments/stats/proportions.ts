/**
 * Difference between two cells' proportions (exit before video start, start failures...).
 *
 * - Test: the two-proportion z-test with the pooled proportion under H0: p_T = p_C
 *   (Fleiss, Levin & Paik, "Statistical Methods for Rates and Proportions", 3rd ed. 2003,
 *   §2.5.2; statsmodels proportions_ztest).
 * - Interval for the difference: the unpooled Wald interval p̂_T - p̂_C ± z·√(p̂_T q̂_T/n_T +
 *   p̂_C q̂_C/n_C) (Fleiss et al. §2.5.1; statsmodels confint_proportions_2indep method='wald').
 *   Pooling is right for the test (the variance under the null) and wrong for the interval.
 * - Relative lift p_T/p_C - 1 with the delta-method interval of means.ts (Deng et al. 2018).
 */
import { invalid, requireCount, requireOpenUnit } from './errors.ts';
import { deltaMethodLift } from './means.ts';
import { normalQuantile, normalTwoSidedP } from './normal.ts';
import type { Interval, ProportionSummary, RelativeLift } from './types.ts';

export interface ProportionTestOptions {
  /** Two-sided significance level; intervals have level 1 - alpha. Default 0.05. */
  readonly alpha?: number;
}

export interface ProportionTestResult {
  readonly alpha: number;
  readonly control: ProportionSummary;
  readonly treatment: ProportionSummary;
  readonly controlRate: number;
  readonly treatmentRate: number;
  /** treatmentRate - controlRate */
  readonly difference: number;
  /** The pooled standard error used by the test. */
  readonly pooledStandardError: number;
  /** The unpooled standard error used by the interval. */
  readonly standardError: number;
  readonly z: number;
  /** Two-sided p-value of the pooled z-test. */
  readonly pValue: number;
  /** Unpooled Wald interval for the difference at level 1 - alpha. */
  readonly ci: Interval;
  /** Null when the control rate is 0. */
  readonly relativeLift: RelativeLift | null;
}

export function validateProportionSummary(name: string, s: ProportionSummary): void {
  requireCount(`${name}.n`, s.n, 1);
  requireCount(`${name}.successes`, s.successes, 0);
  if (s.successes > s.n) {
    throw invalid(`${name}.successes (${s.successes}) exceeds ${name}.n (${s.n})`, { ...s });
  }
}

export function twoProportionZTest(
  control: ProportionSummary,
  treatment: ProportionSummary,
  options: ProportionTestOptions = {},
): ProportionTestResult {
  const alpha = options.alpha ?? 0.05;
  requireOpenUnit('alpha', alpha);
  validateProportionSummary('control', control);
  validateProportionSummary('treatment', treatment);
  const pc = control.successes / control.n;
  const pt = treatment.successes / treatment.n;
  const difference = pt - pc;
  const pooled = (control.successes + treatment.successes) / (control.n + treatment.n);
  const pooledSe = Math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n));
  const vc = (pc * (1 - pc)) / control.n;
  const vt = (pt * (1 - pt)) / treatment.n;
  const se = Math.sqrt(vc + vt);
  // A pooled rate of 0 or 1 means both cells are all-failure or all-success: the rates are
  // equal, there is no evidence of a difference (z = 0, p = 1) rather than 0/0.
  const z = pooledSe === 0 ? 0 : difference / pooledSe;
  const zq = normalQuantile(1 - alpha / 2);
  return {
    alpha,
    control,
    treatment,
    controlRate: pc,
    treatmentRate: pt,
    difference,
    pooledStandardError: pooledSe,
    standardError: se,
    z,
    pValue: normalTwoSidedP(z),
    ci: { lower: difference - zq * se, upper: difference + zq * se },
    relativeLift: deltaMethodLift(pc, vc, pt, vt, alpha),
  };
}
