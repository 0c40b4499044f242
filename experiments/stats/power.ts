/**
 * Sample size and power for a two-sided test between a treatment cell and the control.
 *
 * Cell weights are the shares of the experiment's units each cell receives (0.5/0.5 for an
 * A/B test, 0.34/0.33 for control and one treatment of a three-cell test), so unequal
 * allocations and multi-cell experiments are planned the same way. With N units in total,
 * cell sizes are N·w.
 *
 * - Means (normal approximation, the planning formula of Chow, Shao & Wang, "Sample Size
 *   Calculations in Clinical Research", 2nd ed. 2008, §3.2, and statsmodels NormalIndPower):
 *   N = (z_{1-α/2} + z_{1-β})² (σ_C²/w_C + σ_T²/w_T) / δ².
 *   Power at given sizes counts both rejection regions:
 *   Φ(|δ|/se - z_{1-α/2}) + Φ(-|δ|/se - z_{1-α/2}), se = √(σ_C²/n_C + σ_T²/n_T).
 * - Proportions (Fleiss, Levin & Paik, "Statistical Methods for Rates and Proportions", 3rd
 *   ed. 2003, §4.2, without continuity correction; statsmodels power_proportions_2indep and
 *   samplesize_proportions_2indep_onetail): the test statistic uses the pooled variance
 *   under H0 and the unpooled variance under H1:
 *   N = ((z_{1-α/2} σ₀ + z_{1-β} σ₁) / δ)², σ₀² = p̄(1-p̄)(1/w_C + 1/w_T),
 *   σ₁² = p_C(1-p_C)/w_C + p_T(1-p_T)/w_T, p̄ = (w_C p_C + w_T p_T)/(w_C + w_T).
 *
 * Sample sizes (like statsmodels' closed forms) ignore the far rejection region, which at
 * 80% power holds ~1e-6 of probability; power functions include it.
 */
import { invalid, requireFinite, requireOpenUnit, requirePositive } from './errors.ts';
import { normalCdf, normalQuantile } from './normal.ts';
import type { EffectSize } from './types.ts';

export interface CellWeights {
  readonly control: number;
  readonly treatment: number;
}

export interface SampleSizeResult {
  /** The absolute difference the plan is for (treatment - control). */
  readonly effect: number;
  /** Units needed in the control cell (rounded up). */
  readonly control: number;
  /** Units needed in the treatment cell (rounded up). */
  readonly treatment: number;
  /** Units the whole experiment needs so each cell reaches its size at the given weights. */
  readonly totalUnits: number;
  /** The unrounded solution N (total units, real-valued). */
  readonly exactTotalUnits: number;
  /** Power achieved at the rounded cell sizes (>= the requested power). */
  readonly power: number;
}

export interface MeansPlan {
  readonly baselineMean: number;
  /** Per-unit standard deviation of the metric in the control cell. */
  readonly standardDeviation: number;
  /** Per-unit standard deviation in the treatment cell; defaults to the control's. */
  readonly treatmentStandardDeviation?: number;
  /** The minimum detectable effect, relative to the baseline mean or absolute. */
  readonly mde: EffectSize;
  readonly alpha?: number;
  readonly power?: number;
  readonly weights?: CellWeights;
}

export interface ProportionsPlan {
  readonly baselineRate: number;
  readonly mde: EffectSize;
  readonly alpha?: number;
  readonly power?: number;
  readonly weights?: CellWeights;
}

export interface CellSizes {
  readonly nControl: number;
  readonly nTreatment: number;
}

const EVEN: CellWeights = { control: 0.5, treatment: 0.5 };

/** The absolute effect an EffectSize stands for at a baseline. Exactly one of relative/absolute. */
export function resolveEffect(effect: EffectSize, baseline: number): number {
  const hasRelative = effect.relative !== undefined;
  const hasAbsolute = effect.absolute !== undefined;
  if (hasRelative === hasAbsolute) {
    throw invalid('an effect size needs exactly one of relative or absolute', { ...effect });
  }
  const value = hasRelative ? (effect.relative as number) * baseline : (effect.absolute as number);
  requireFinite('effect', value);
  if (value === 0) throw invalid('the effect size must not be zero', { ...effect, baseline });
  return value;
}

function validateWeights(w: CellWeights): void {
  requirePositive('weights.control', w.control);
  requirePositive('weights.treatment', w.treatment);
  if (w.control + w.treatment > 1 + 1e-9) {
    throw invalid('cell weights are shares of the experiment and must sum to at most 1', { ...w });
  }
}

function roundUp(x: number): number {
  // Guard against 100.00000000000001 becoming 101.
  return Math.ceil(x - 1e-9 * Math.max(1, x));
}

function sizes(exact: number, w: CellWeights): { control: number; treatment: number; totalUnits: number } {
  const control = roundUp(exact * w.control);
  const treatment = roundUp(exact * w.treatment);
  return { control, treatment, totalUnits: roundUp(Math.max(control / w.control, treatment / w.treatment)) };
}

function twoSidedPower(effect: number, seNull: number, seAlt: number, alpha: number): number {
  const z = normalQuantile(1 - alpha / 2);
  const d = Math.abs(effect);
  return normalCdf((d - z * seNull) / seAlt) + normalCdf((-d - z * seNull) / seAlt);
}

function validateSizes(s: CellSizes): void {
  requirePositive('nControl', s.nControl);
  requirePositive('nTreatment', s.nTreatment);
}

/** Units per cell for a two-sided test of means to detect the MDE with the given power. */
export function meansSampleSize(plan: MeansPlan): SampleSizeResult {
  const alpha = plan.alpha ?? 0.05;
  const power = plan.power ?? 0.8;
  const w = plan.weights ?? EVEN;
  requireOpenUnit('alpha', alpha);
  requireOpenUnit('power', power);
  validateWeights(w);
  requireFinite('baselineMean', plan.baselineMean);
  requirePositive('standardDeviation', plan.standardDeviation);
  const sdT = plan.treatmentStandardDeviation ?? plan.standardDeviation;
  requirePositive('treatmentStandardDeviation', sdT);
  const effect = resolveEffect(plan.mde, plan.baselineMean);
  const zSum = normalQuantile(1 - alpha / 2) + normalQuantile(power);
  const unitVariance = plan.standardDeviation ** 2 / w.control + sdT ** 2 / w.treatment;
  const exact = (zSum * zSum * unitVariance) / (effect * effect);
  const s = sizes(exact, w);
  return {
    effect,
    ...s,
    exactTotalUnits: exact,
    power: meansPower({ ...plan, alpha }, { nControl: s.control, nTreatment: s.treatment }),
  };
}

/** Power of the two-sided test of means at the given cell sizes. */
export function meansPower(plan: Omit<MeansPlan, 'power' | 'weights'>, n: CellSizes): number {
  const alpha = plan.alpha ?? 0.05;
  requireOpenUnit('alpha', alpha);
  validateSizes(n);
  requirePositive('standardDeviation', plan.standardDeviation);
  const sdT = plan.treatmentStandardDeviation ?? plan.standardDeviation;
  requirePositive('treatmentStandardDeviation', sdT);
  const effect = resolveEffect(plan.mde, plan.baselineMean);
  const se = Math.sqrt(plan.standardDeviation ** 2 / n.nControl + sdT ** 2 / n.nTreatment);
  return twoSidedPower(effect, se, se, alpha);
}

function proportionsRates(plan: Omit<ProportionsPlan, 'power' | 'weights'>): {
  pc: number;
  pt: number;
  effect: number;
} {
  const pc = plan.baselineRate;
  requireOpenUnit('baselineRate', pc);
  const effect = resolveEffect(plan.mde, pc);
  const pt = pc + effect;
  if (!(pt > 0 && pt < 1)) {
    throw invalid(`baseline ${pc} with effect ${effect} gives a treatment rate ${pt} outside (0, 1)`, {
      baselineRate: pc,
      effect,
    });
  }
  return { pc, pt, effect };
}

/** Units per cell for a two-sided two-proportion z-test to detect the MDE with the given power. */
export function proportionsSampleSize(plan: ProportionsPlan): SampleSizeResult {
  const alpha = plan.alpha ?? 0.05;
  const power = plan.power ?? 0.8;
  const w = plan.weights ?? EVEN;
  requireOpenUnit('alpha', alpha);
  requireOpenUnit('power', power);
  validateWeights(w);
  const { pc, pt, effect } = proportionsRates(plan);
  const pooled = (w.control * pc + w.treatment * pt) / (w.control + w.treatment);
  const sigmaNull = Math.sqrt(pooled * (1 - pooled) * (1 / w.control + 1 / w.treatment));
  const sigmaAlt = Math.sqrt((pc * (1 - pc)) / w.control + (pt * (1 - pt)) / w.treatment);
  const root = (normalQuantile(1 - alpha / 2) * sigmaNull + normalQuantile(power) * sigmaAlt) / effect;
  const exact = root * root;
  const s = sizes(exact, w);
  return {
    effect,
    ...s,
    exactTotalUnits: exact,
    power: proportionsPower({ ...plan, alpha }, { nControl: s.control, nTreatment: s.treatment }),
  };
}

/** Power of the two-sided two-proportion z-test (pooled under H0) at the given cell sizes. */
export function proportionsPower(plan: Omit<ProportionsPlan, 'power' | 'weights'>, n: CellSizes): number {
  const alpha = plan.alpha ?? 0.05;
  requireOpenUnit('alpha', alpha);
  validateSizes(n);
  const { pc, pt, effect } = proportionsRates(plan);
  const pooled = (n.nControl * pc + n.nTreatment * pt) / (n.nControl + n.nTreatment);
  const seNull = Math.sqrt(pooled * (1 - pooled) * (1 / n.nControl + 1 / n.nTreatment));
  const seAlt = Math.sqrt((pc * (1 - pc)) / n.nControl + (pt * (1 - pt)) / n.nTreatment);
  return twoSidedPower(effect, seNull, seAlt, alpha);
}
