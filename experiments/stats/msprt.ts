/**
 * Anytime-valid sequential test of a difference in means: the mixture sequential
 * probability ratio test (mSPRT) with a normal mixture.
 *
 * References:
 * - Johari, Pekelis & Walsh, "Always Valid Inference: Bringing Sequential Analysis to A/B
 *   Testing", arXiv:1512.04922 (2015/2017), and Johari, Koomen, Pekelis & Walsh, "Peeking
 *   at A/B Tests: Why it matters, and what to do about it", KDD 2017 (the normal-mixture
 *   mSPRT, always-valid p-values and confidence intervals); journal version "Always Valid
 *   Inference: Continuous Monitoring of A/B Tests", Operations Research 70(3), 2022.
 * - Robbins, "Statistical methods related to the law of the iterated logarithm", Ann. Math.
 *   Stat. 41 (1970): the normal mixture martingale; Ville's inequality gives the guarantee.
 *
 * At each look the estimate d = x̄_T - x̄_C has (approximately) d ~ N(θ, V) with
 * V = s_T²/n_T + s_C²/n_C (the sample variances plugged in, as Johari et al. do). Mixing
 * the likelihood ratio over θ ~ N(θ₀, τ²) gives
 *
 *   Λ_n = √(V / (V + τ²)) · exp( τ² (d - θ₀)² / (2 V (V + τ²)) ),
 *
 * which for equal cells (V = 2σ²/n) is the paper's √(2σ²/(2σ²+nτ²)) exp(n²τ²(d-θ₀)²/(4σ²(2σ²+nτ²))).
 * Under H0 Λ_n is a nonnegative martingale with mean 1, so P(∃n: Λ_n >= 1/α) <= α
 * (Ville): the always-valid p-value p_n = min(p_{n-1}, 1/Λ_n) can be read after every
 * look, and the confidence sequence CI_n = CI_{n-1} ∩ {θ : Λ_n(θ) < 1/α} = CI_{n-1} ∩
 * [d - r_n, d + r_n] covers θ at all looks simultaneously with probability >= 1 - α, where
 *
 *   r_n = √( 2V(V + τ²)/τ² · ( ln(1/α) + ½ ln((V + τ²)/V) ) )
 *
 * is the boundary a dashboard plots (reject when |d - θ₀| >= r_n).
 *
 * The price of validity at every look is conservatism at any fixed set of looks: with 10
 * equally spaced looks the type I error of an α = 5% mSPRT is about 1% whatever τ² is
 * (see the simulation test), because Ville's bound is tight only for continuous monitoring
 * over an unbounded horizon.
 */
import { invalid, requireFinite, requireOpenUnit, requirePositive } from './errors.ts';
import { validateMeanSummary } from './means.ts';
import type { Interval, MeanSummary } from './types.ts';

export interface MsprtConfig {
  /** The level: reject when the always-valid p-value is <= alpha. */
  readonly alpha: number;
  /** τ², the variance of the normal mixing distribution of the effect, in the metric's unit squared. */
  readonly mixingVariance: number;
  /** θ₀, the difference under the null hypothesis. Default 0. */
  readonly nullDifference?: number;
}

/** Cumulative summaries of both cells at one look. */
export interface MsprtLook {
  readonly control: MeanSummary;
  readonly treatment: MeanSummary;
}

/** What carries from one look to the next. */
export interface MsprtState {
  readonly looks: number;
  /** Always-valid p-value: the running minimum of 1/Λ (capped at 1). */
  readonly pValue: number;
  /** Confidence sequence: the running intersection of the look-wise intervals. */
  readonly ci: Interval;
}

export interface MsprtLookResult extends MsprtState {
  /** treatment.mean - control.mean at this look. */
  readonly difference: number;
  /** V = s_T²/n_T + s_C²/n_C at this look. */
  readonly variance: number;
  readonly logLikelihoodRatio: number;
  /** Reject H0 when |difference - θ₀| >= boundary (in the metric's unit). */
  readonly boundary: number;
  /** The boundary in standard errors: boundary / √V. */
  readonly zBoundary: number;
  readonly rejected: boolean;
}

export interface MsprtBoundaryPoint {
  readonly nControl: number;
  readonly nTreatment: number;
  readonly variance: number;
  readonly boundary: number;
  readonly zBoundary: number;
}

function validateConfig(config: MsprtConfig): void {
  requireOpenUnit('alpha', config.alpha);
  requirePositive('mixingVariance', config.mixingVariance);
  if (config.nullDifference !== undefined) requireFinite('nullDifference', config.nullDifference);
}

/** Before the first look: p = 1 and the whole line. */
export function msprtInitialState(): MsprtState {
  return { looks: 0, pValue: 1, ci: { lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY } };
}

/** ln Λ for an estimate d with variance V. */
export function msprtLogLikelihoodRatio(config: MsprtConfig, difference: number, variance: number): number {
  validateConfig(config);
  requirePositive('variance', variance);
  const tau2 = config.mixingVariance;
  const centred = difference - (config.nullDifference ?? 0);
  return (
    0.5 * Math.log(variance / (variance + tau2)) +
    (tau2 * centred * centred) / (2 * variance * (variance + tau2))
  );
}

/** The rejection radius r around θ₀ for an estimate with variance V. */
export function msprtBoundary(config: MsprtConfig, variance: number): number {
  validateConfig(config);
  requirePositive('variance', variance);
  const tau2 = config.mixingVariance;
  const threshold = Math.log(1 / config.alpha) + 0.5 * Math.log((variance + tau2) / variance);
  return Math.sqrt(((2 * variance * (variance + tau2)) / tau2) * threshold);
}

/**
 * The boundary at planned cell sizes, for plotting before (or while) the data arrive:
 * V = σ_C²/n_C + σ_T²/n_T with the given per-unit variances.
 */
export function msprtBoundaryCurve(
  config: MsprtConfig,
  unitVariance: { readonly control: number; readonly treatment: number },
  sizes: readonly { readonly nControl: number; readonly nTreatment: number }[],
): MsprtBoundaryPoint[] {
  requirePositive('unitVariance.control', unitVariance.control);
  requirePositive('unitVariance.treatment', unitVariance.treatment);
  return sizes.map(({ nControl, nTreatment }) => {
    requirePositive('nControl', nControl);
    requirePositive('nTreatment', nTreatment);
    const variance = unitVariance.control / nControl + unitVariance.treatment / nTreatment;
    const boundary = msprtBoundary(config, variance);
    return { nControl, nTreatment, variance, boundary, zBoundary: boundary / Math.sqrt(variance) };
  });
}

/** Fold one look into the state. Looks must be cumulative (all data so far). */
export function msprtUpdate(config: MsprtConfig, state: MsprtState, look: MsprtLook): MsprtLookResult {
  validateConfig(config);
  validateMeanSummary('control', look.control);
  validateMeanSummary('treatment', look.treatment);
  const variance = look.control.variance / look.control.n + look.treatment.variance / look.treatment.n;
  if (!(variance > 0)) throw invalid('mSPRT needs a positive variance in at least one cell', { ...look });
  const difference = look.treatment.mean - look.control.mean;
  const logLikelihoodRatio = msprtLogLikelihoodRatio(config, difference, variance);
  const pValue = Math.min(state.pValue, Math.min(1, Math.exp(-logLikelihoodRatio)));
  const boundary = msprtBoundary(config, variance);
  const ci: Interval = {
    lower: Math.max(state.ci.lower, difference - boundary),
    upper: Math.min(state.ci.upper, difference + boundary),
  };
  return {
    looks: state.looks + 1,
    pValue,
    ci,
    difference,
    variance,
    logLikelihoodRatio,
    boundary,
    zBoundary: boundary / Math.sqrt(variance),
    rejected: pValue <= config.alpha,
  };
}

/** Run the test over a series of cumulative looks; one result per look. */
export function msprtSequence(config: MsprtConfig, looks: readonly MsprtLook[]): MsprtLookResult[] {
  const results: MsprtLookResult[] = [];
  let state = msprtInitialState();
  for (const look of looks) {
    const result = msprtUpdate(config, state, look);
    results.push(result);
    state = result;
  }
  return results;
}

/**
 * A mixing variance τ² tuned to a planned horizon: the τ² that makes the boundary (in
 * standard errors) smallest, and hence the test most powerful, when V reaches the planned
 * final variance V_h. With ρ = τ²/V the boundary is z² = 2(1 + 1/ρ)(ln(1/α) + ½ ln(1 + ρ)),
 * minimised where ρ = 2 ln(1/α) + ln(1 + ρ) (solved by fixed-point iteration, a
 * contraction since d/dρ ln(1 + ρ) < 1). This is the tuning of Howard, Ramdas, McAuliffe &
 * Sekhon, "Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann. Stat.
 * 49(2), 2021, who tune the normal mixture to an intrinsic time the same way; at α = 0.05,
 * ρ ≈ 8.2.
 *
 * Johari et al. suggest matching τ² to the spread of true effects seen in past
 * experiments instead; when that history exists, pass its variance as mixingVariance.
 */
export function msprtMixingVariance(alpha: number, horizonVariance: number): number {
  requireOpenUnit('alpha', alpha);
  requirePositive('horizonVariance', horizonVariance);
  const twoLogInvAlpha = 2 * Math.log(1 / alpha);
  let rho = twoLogInvAlpha;
  for (let i = 0; i < 200; i++) {
    const next = twoLogInvAlpha + Math.log1p(rho);
    if (Math.abs(next - rho) <= 1e-14 * next) {
      rho = next;
      break;
    }
    rho = next;
  }
  return rho * horizonVariance;
}
