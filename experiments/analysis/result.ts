/**
 * What an analysis returns: plain, readonly, JSON-ready data for the CLI, the dashboards and
 * the feedback loop (ABR tuning reads `decision`). Conventions follow experiments/stats:
 * differences are treatment - control, lifts treatment / control - 1, intervals have level
 * 1 - alpha, infinite bounds mean "unbounded".
 */
import type { DecisionRule as RuleKind, UnitType } from '../definitions/vocabulary.ts';
import type {
  Better,
  CellAssessment,
  DecisionKind,
  Interval,
  MetricRole,
  RelativeLift,
  SrmResult,
  TestMode,
} from '../stats/index.ts';

/**
 * - `welch`: Welch's t-test on unit values;
 * - `cuped-welch`: the same on CUPED-adjusted unit values (Deng et al., WSDM 2013);
 * - `two-proportion-z`: pooled two-proportion z-test, one Bernoulli trial per unit;
 * - `quantile`: exact order-statistic interval per cell, Maritz-Jarrett difference test;
 * - `chi-square`: the sample-ratio check (metric `units`).
 */
export type AnalysisMethod = 'welch' | 'cuped-welch' | 'two-proportion-z' | 'quantile' | 'chi-square';

/**
 * - `holm`, `holm-sequential`: Holm across treatment cells on the primary's fixed-horizon or
 *   always-valid p-values (what the decision used);
 * - `holm-non-inferiority`: Holm on the one-sided non-inferiority p-values (non-inferiority rule);
 * - `benjamini-hochberg`: across all secondary comparisons (metrics and quantiles);
 * - `none`: guardrails (an intersection-union test needs no correction) and unassessed rows.
 */
export type PAdjustment = 'holm' | 'holm-sequential' | 'holm-non-inferiority' | 'benjamini-hochberg' | 'none';

/**
 * The sequential test behind a comparison's `sequential` evidence:
 * - `group-sequential`: Lan-DeMets alpha spending (O'Brien-Fleming type) over the looks the
 *   analysis has taken, one per recorded run, at information fraction n / planned n; exact
 *   alpha over the looks actually taken. Used whenever there is a sample-size plan.
 * - `msprt`: the mixture SPRT's always-valid p-value and confidence sequence over daily
 *   cohorts; the fallback when there is no plan (no information fraction to spend alpha on).
 */
export type SequentialMethod = 'group-sequential' | 'msprt';

/** One look of the group-sequential test, as experiment_results records it per run. */
export interface SequentialLook {
  /** The run's time, epoch ms. */
  readonly analyzedAt: number;
  /**
   * The look's units: the harmonic mean of the two cells' n. Its information fraction is
   * units / planned n under the plan of the run that reads it (the current estimate of the
   * maximum information; Mehta & Tsiatis, "Flexible sample size considerations using
   * information-based interim monitoring", Drug Inf. J. 35, 2001).
   */
  readonly units: number;
  /** treatment - control at the look. */
  readonly difference: number;
  /** The variance of the difference at the look (σ_C²/n_C + σ_T²/n_T). */
  readonly variance: number;
}

export interface ComparisonResult {
  /** The control cell's estimate of the metric. */
  readonly controlEstimate: number;
  readonly difference: number;
  readonly standardError: number;
  /** Interval for the difference at level 1 - alpha (fixed horizon). */
  readonly ci: Interval;
  readonly lift: RelativeLift | null;
  /** Two-sided fixed-horizon p-value. */
  readonly pValue: number;
  /** The p-value after the correction named by `pAdjustment`; null when it was not assessed. */
  readonly pAdjusted: number | null;
  readonly pAdjustment: PAdjustment;
  /**
   * The sequential test's p-value (repeated, or always-valid) and interval (running
   * intersection of repeated confidence intervals, or confidence sequence), the looks taken
   * and this run's look when it was one; null for quantiles.
   */
  readonly sequential: {
    readonly method: SequentialMethod;
    readonly pValue: number;
    readonly ci: Interval;
    readonly looks: number;
    /** Information fraction of the last look taken (group-sequential), null otherwise. */
    readonly informationFraction: number | null;
    readonly look: SequentialLook | null;
  } | null;
}

export interface MetricResult {
  /** A QoE metric name, or `startupMs:p90` for a play-delay quantile. */
  readonly metric: string;
  readonly role: MetricRole;
  readonly better: Better;
  readonly method: AnalysisMethod;
  /** Whether this row is the one the decision used for its metric. */
  readonly decides: boolean;
  readonly cell: string;
  readonly control: boolean;
  /** Units (or session views, for quantiles) with a value. */
  readonly n: number;
  readonly estimate: number | null;
  readonly ci: Interval | null;
  /** Against the control; null in the control's own row or when it could not be computed. */
  readonly comparison: ComparisonResult | null;
  /** primary: better/worse/non-inferior/inferior/inconclusive; guardrail: pass/breach/inconclusive; secondary: improved/worsened/no-change. */
  readonly status: string | null;
  /** Why a value is missing, when it is. */
  readonly note: string | null;
}

export interface CellOverview {
  readonly cell: string;
  readonly control: boolean;
  /** Basis points from the definition. */
  readonly weight: number;
  readonly units: number;
  readonly sessionViews: number;
  /** Units allocated to more than one cell over time (the assignment changed under them). */
  readonly unitsInSeveralCells: number;
}

export interface PowerPlan {
  readonly metric: string;
  readonly method: 'means' | 'proportions';
  /** The control's value the MDE is resolved against. */
  readonly baseline: number;
  readonly standardDeviation: number | null;
  /** The absolute minimum detectable effect. */
  readonly effect: number;
  /** The per-comparison alpha the plan uses: alpha / treatment cells (Bonferroni bound on Holm). */
  readonly alpha: number;
  readonly power: number;
  readonly plannedSamplePerCell: number;
  readonly plannedTotalUnits: number;
  /** Power to detect the MDE at the current size of the smallest compared pair of cells. */
  readonly currentPower: number;
}

export interface CupedSummary {
  readonly metric: string;
  readonly theta: number;
  readonly correlation: number;
  readonly covariateMean: number;
  /** Units whose pre-period gave a covariate; the others get the pooled covariate mean. */
  readonly unitsWithCovariate: number;
  readonly unitsWithoutCovariate: number;
  /** 1 - var(adjusted) / var(unadjusted), per cell. */
  readonly varianceReduction: Readonly<Record<string, number>>;
}

export interface ExperimentDecision {
  readonly kind: DecisionKind;
  /** The cell to ship; null unless kind is 'ship'. */
  readonly cell: string | null;
  readonly reasons: readonly string[];
}

export interface ExperimentResult {
  readonly experimentKey: string;
  readonly definitionDigest: string;
  /** `<key>@<ISO time>`. */
  readonly analysisId: string;
  /** Epoch ms. */
  readonly analyzedAt: number;
  readonly unit: UnitType;
  readonly decisionRule: RuleKind;
  readonly mode: TestMode;
  readonly alpha: number;
  readonly controlCell: string;
  /** Epoch ms of the earliest first allocation; null before any unit. */
  readonly firstAllocationAt: number | null;
  readonly runtimeDays: number;
  /** The sequential test the comparisons carry: group-sequential with a plan, mSPRT without. */
  readonly sequentialMethod: SequentialMethod;
  /**
   * Looks of the sequential test so far, the most over the comparisons: recorded runs that
   * were looks, this one included (group-sequential), or daily cohorts (mSPRT).
   */
  readonly looks: number;
  readonly cells: readonly CellOverview[];
  readonly srm: SrmResult | null;
  readonly power: PowerPlan | null;
  readonly cuped: CupedSummary | null;
  readonly metrics: readonly MetricResult[];
  readonly decision: ExperimentDecision;
  /** The decision function's per-cell assessment (experiments/stats decide). */
  readonly assessments: readonly CellAssessment[];
}
