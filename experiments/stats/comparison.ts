/**
 * The common shape in which every metric result reaches the decision function, whatever
 * test produced it (Welch, two-proportion z, quantile difference), plus adapters from
 * those results. A comparison is one metric, one treatment cell, against the control.
 */
import type { WelchResult } from './means.ts';
import type { MsprtLookResult } from './msprt.ts';
import type { ProportionTestResult } from './proportions.ts';
import type { QuantileDifference } from './quantiles.ts';
import type { EffectSize, Interval } from './types.ts';

export type MetricRole = 'primary' | 'secondary' | 'guardrail';
/** Which direction of the metric is an improvement (experiments/definitions' `better`). */
export type Better = 'higher' | 'lower';

/** What the experiment definition says about a metric in one treatment cell. */
export interface ComparisonMeta {
  readonly metric: string;
  readonly role: MetricRole;
  readonly better: Better;
  /** The treatment cell compared with the control. */
  readonly cell: string;
  /**
   * Non-inferiority margin: how much worse than the control the treatment may be. Required
   * for guardrails and for the primary metric under the non-inferiority rule. A relative
   * margin is a share of the control's value.
   */
  readonly margin?: EffectSize;
}

export interface MetricComparison extends ComparisonMeta {
  readonly nControl: number;
  readonly nTreatment: number;
  /** The control's value of the metric (mean, rate or quantile): the base of relative margins. */
  readonly controlValue: number;
  /** treatment - control */
  readonly difference: number;
  readonly standardError: number;
  /** Degrees of freedom of a t statistic (Welch); Infinity for a z statistic. */
  readonly degreesOfFreedom: number;
  /** Two-sided fixed-horizon p-value of no difference. */
  readonly pValue: number;
  /** Always-valid p-value and confidence sequence (mSPRT) at the decision rule's alpha. */
  readonly sequential?: SequentialEvidence;
}

/**
 * What a sequential test hands to decide(), at the decision rule's alpha: a p-value that is
 * <= alpha exactly when the test has rejected and stays valid across looks, and an interval
 * that covers the effect at every look with probability >= 1 - alpha.
 * - `msprt` (the default when `kind` is absent): always-valid p-value and confidence sequence
 *   (msprt.ts), valid under continuous monitoring.
 * - `group-sequential`: repeated p-value and repeated confidence interval of an alpha-spending
 *   design (group-sequential.ts, `withGroupSequential`), valid at the looks taken.
 */
export type SequentialEvidence =
  | { readonly kind?: 'msprt'; readonly pValue: number; readonly ci: Interval }
  | { readonly kind: 'group-sequential'; readonly pValue: number; readonly ci: Interval };

export function fromWelch(meta: ComparisonMeta, r: WelchResult): MetricComparison {
  return {
    ...meta,
    nControl: r.control.n,
    nTreatment: r.treatment.n,
    controlValue: r.control.mean,
    difference: r.difference,
    standardError: r.standardError,
    degreesOfFreedom: r.degreesOfFreedom,
    pValue: r.pValue,
  };
}

/**
 * The p-value is the pooled z-test's; bounds use the unpooled standard error, as the Wald
 * interval does.
 */
export function fromProportions(meta: ComparisonMeta, r: ProportionTestResult): MetricComparison {
  return {
    ...meta,
    nControl: r.control.n,
    nTreatment: r.treatment.n,
    controlValue: r.controlRate,
    difference: r.difference,
    standardError: r.standardError,
    degreesOfFreedom: Number.POSITIVE_INFINITY,
    pValue: r.pValue,
  };
}

export function fromQuantileDifference(meta: ComparisonMeta, r: QuantileDifference): MetricComparison {
  return {
    ...meta,
    nControl: r.control.n,
    nTreatment: r.treatment.n,
    controlValue: r.control.estimate,
    difference: r.difference,
    standardError: r.standardError,
    degreesOfFreedom: Number.POSITIVE_INFINITY,
    pValue: r.pValue,
  };
}

/**
 * Attach the latest mSPRT result (computed at the decision rule's alpha, on the same
 * metric and cells) to a comparison.
 */
export function withSequential(c: MetricComparison, look: MsprtLookResult): MetricComparison {
  return { ...c, sequential: { pValue: look.pValue, ci: look.ci } };
}
