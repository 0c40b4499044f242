/**
 * From sufficient statistics to an experiment result: pure, no I/O. Every statistic comes
 * from experiments/stats; this module only assembles its inputs from the sums ClickHouse
 * returned (queries.ts) and its outputs into one result with one decision.
 *
 * The steps, per experiment:
 * 1. Totals per cell (sums over cohorts) and the sample-ratio check against the
 *    definition's weights (Pearson chi-square, flagged at p < 0.001).
 * 2. CUPED for the primary metric: θ pooled over cells from the cross sums (cupedAdjust).
 *    Units without a pre-period value get the pooled mean of the covariate; any
 *    pre-assignment covariate keeps the difference unbiased (Deng et al., WSDM 2013, §3),
 *    and the mean fill leaves those units unadjusted. Sums with the fill are exact algebra
 *    on the split sums: Σx = Σx_A + n_B·c, Σx² = Σx²_A + n_B·c², Σxy = Σxy_A + c·Σy_B.
 * 3. The sample size plan from the primary's MDE (power.ts) at the control's observed
 *    baseline and spread, with alpha / (treatment cells), the Bonferroni bound on Holm.
 * 4. Per metric and cell: estimate and interval; per treatment cell against the control:
 *    Welch (means), two-proportion z (Bernoulli units), quantile difference (play delay),
 *    each but the quantiles with its sequential evidence: with a sample-size plan, the
 *    group-sequential test over the looks actually taken, one per recorded run (the runs'
 *    looks come back through options.previousLooks), at information fraction n / planned n;
 *    without a plan, the mSPRT over cumulative cohort looks (units by the day of their first
 *    allocation, each at its current value: nested samples of independent units), with the
 *    mixing variance tuned to the current variance (msprtMixingVariance).
 * 5. One decision (decide): Holm across cells for the primary, guardrails as
 *    non-inferiority tests, Benjamini-Hochberg for secondary metrics and quantiles.
 */
import { definitionDigest } from '../definitions/digest.ts';
import type { ExperimentDefinition } from '../definitions/schema.ts';
import type { MetricName } from '../definitions/vocabulary.ts';
import {
  type Better,
  benjaminiHochbergAdjust,
  type CellAssessment,
  type ComparisonMeta,
  type CovariateSums,
  type CupedResult,
  cupedAdjust,
  type Decision,
  decide,
  type EffectSize,
  fromProportions,
  fromQuantileDifference,
  fromWelch,
  GROUP_SEQUENTIAL_MIN_GROWTH,
  type GroupSequentialState,
  groupSequentialInitialState,
  groupSequentialRepeatedPValue,
  groupSequentialUpdate,
  holmAdjust,
  type Interval,
  type MeanSummary,
  type MetricComparison,
  type MetricRole,
  type MsprtLook,
  meansPower,
  meansSampleSize,
  msprtMixingVariance,
  msprtSequence,
  type OrderedSample,
  proportionsPower,
  proportionsSampleSize,
  quantileDifferenceOrdered,
  type RelativeLift,
  type SrmResult,
  sampleRatioMismatch,
  type TestMode,
  twoProportionZTest,
  welchTTest,
} from '../stats/index.ts';
import { meanInterval, wilsonInterval } from './intervals.ts';
import { type MetricTest, metricTest } from './metrics.ts';
import {
  orderStatistic,
  quantileIntervalFromHistogram,
  type RankedHistogram,
  ranked,
} from './order-statistics.ts';
import type { CohortStatistics, CupedSums, Histogram, MomentSums, SufficientStatistics } from './queries.ts';
import type {
  AnalysisMethod,
  CellOverview,
  CupedSummary,
  ExperimentDecision,
  ExperimentResult,
  MetricResult,
  PAdjustment,
  PowerPlan,
  SequentialLook,
  SequentialMethod,
} from './result.ts';

const DAY_MS = 86_400_000;
export const PLAY_DELAY_QUANTILES: readonly number[] = [0.5, 0.9, 0.99];

export interface EvaluateOptions {
  /** Analysis time, epoch ms. */
  readonly now: number;
  readonly mode: TestMode;
  /** Play-delay quantiles to report. */
  readonly quantiles: readonly number[];
  /**
   * The group-sequential looks of earlier recorded runs (store.ts readSequentialLooks), by
   * sequentialLookKey(metric, method, cell), oldest first. Absent: this run is the first look.
   */
  readonly previousLooks?: ReadonlyMap<string, readonly SequentialLook[]>;
}

/** The key of a comparison's looks across runs. */
export function sequentialLookKey(metric: string, method: string, cell: string): string {
  return `${metric}\u0000${method}\u0000${cell}`;
}

/** Lan-DeMets O'Brien-Fleming-type spending: spends almost nothing early, ~1.96 at the end. */
export const SEQUENTIAL_SPENDING = 'obrien-fleming' as const;

// ------------------------------------------------------------------------------- sums

const ZERO_MOMENTS: MomentSums = { n: 0, sum: 0, sumSquares: 0 };
const ZERO_CUPED: CupedSums = {
  withCovariate: { n: 0, sumY: 0, sumY2: 0, sumX: 0, sumX2: 0, sumXY: 0 },
  withoutCovariate: { n: 0, sumY: 0, sumY2: 0 },
};

function addMoments(a: MomentSums, b: MomentSums): MomentSums {
  return { n: a.n + b.n, sum: a.sum + b.sum, sumSquares: a.sumSquares + b.sumSquares };
}

function addCuped(a: CupedSums, b: CupedSums): CupedSums {
  const x = a.withCovariate;
  const y = b.withCovariate;
  return {
    withCovariate: {
      n: x.n + y.n,
      sumY: x.sumY + y.sumY,
      sumY2: x.sumY2 + y.sumY2,
      sumX: x.sumX + y.sumX,
      sumX2: x.sumX2 + y.sumX2,
      sumXY: x.sumXY + y.sumXY,
    },
    withoutCovariate: {
      n: a.withoutCovariate.n + b.withoutCovariate.n,
      sumY: a.withoutCovariate.sumY + b.withoutCovariate.sumY,
      sumY2: a.withoutCovariate.sumY2 + b.withoutCovariate.sumY2,
    },
  };
}

interface CellSums {
  readonly units: number;
  readonly sessionViews: number;
  readonly unitsInSeveralCells: number;
  readonly firstAllocationMs: number;
  readonly metrics: readonly MomentSums[];
  readonly cuped: CupedSums;
}

function emptyCell(metricCount: number): CellSums {
  return {
    units: 0,
    sessionViews: 0,
    unitsInSeveralCells: 0,
    firstAllocationMs: Number.POSITIVE_INFINITY,
    metrics: Array.from({ length: metricCount }, () => ZERO_MOMENTS),
    cuped: ZERO_CUPED,
  };
}

function addCohort(a: CellSums, c: CohortStatistics): CellSums {
  return {
    units: a.units + c.units,
    sessionViews: a.sessionViews + c.sessionViews,
    unitsInSeveralCells: a.unitsInSeveralCells + c.unitsInSeveralCells,
    firstAllocationMs: Math.min(a.firstAllocationMs, c.firstAllocationMs),
    metrics: a.metrics.map((m, i) => addMoments(m, c.metrics[i] ?? ZERO_MOMENTS)),
    cuped: addCuped(a.cuped, c.cuped),
  };
}

/** n, mean and sample variance from sums; null below two values. */
export function summaryOf(m: MomentSums): MeanSummary | null {
  if (m.n < 2) return null;
  const mean = m.sum / m.n;
  return { n: m.n, mean, variance: Math.max(0, (m.sumSquares - m.sum * mean) / (m.n - 1)) };
}

/**
 * Per cell, the cumulative sums at each look: looks[k] holds every cohort up to the k-th
 * cohort day of the experiment (any cell's), so all cells are looked at on the same days.
 */
function cumulativeLooks(
  cohorts: readonly CohortStatistics[],
  cells: readonly string[],
  metricCount: number,
): { days: number[]; looks: Map<string, CellSums[]> } {
  const days = [...new Set(cohorts.map((c) => c.cohortDay))].sort((a, b) => a - b);
  const looks = new Map<string, CellSums[]>();
  for (const cell of cells) {
    const mine = cohorts.filter((c) => c.cell === cell);
    let acc = emptyCell(metricCount);
    const series: CellSums[] = [];
    for (const day of days) {
      for (const c of mine) if (c.cohortDay === day) acc = addCohort(acc, c);
      series.push(acc);
    }
    looks.set(cell, series);
  }
  return { days, looks };
}

// ------------------------------------------------------------------------------ CUPED

interface CupedFit {
  readonly result: CupedResult;
  /** Cells in the order passed to cupedAdjust. */
  readonly cells: readonly string[];
  readonly fill: number;
  readonly withCovariate: number;
  readonly withoutCovariate: number;
}

/** CUPED over the cells that have at least two units with a value; null when no unit has a covariate. */
function fitCuped(sums: ReadonlyMap<string, CupedSums>): CupedFit | null {
  let nWith = 0;
  let nWithout = 0;
  let sumX = 0;
  for (const s of sums.values()) {
    nWith += s.withCovariate.n;
    nWithout += s.withoutCovariate.n;
    sumX += s.withCovariate.sumX;
  }
  if (nWith === 0) return null;
  const fill = sumX / nWith;
  const cells: string[] = [];
  const covariates: CovariateSums[] = [];
  for (const [cell, s] of sums) {
    const a = s.withCovariate;
    const b = s.withoutCovariate;
    const n = a.n + b.n;
    if (n < 2) continue;
    cells.push(cell);
    covariates.push({
      n,
      sumY: a.sumY + b.sumY,
      sumY2: a.sumY2 + b.sumY2,
      sumX: a.sumX + b.n * fill,
      sumX2: a.sumX2 + b.n * fill * fill,
      sumXY: a.sumXY + fill * b.sumY,
    });
  }
  if (cells.length === 0) return null;
  return { result: cupedAdjust(covariates), cells, fill, withCovariate: nWith, withoutCovariate: nWithout };
}

function cupedSummaryOf(fit: CupedFit, cell: string): MeanSummary | null {
  const i = fit.cells.indexOf(cell);
  return i < 0 ? null : (fit.result.cells[i]?.adjusted ?? null);
}

// ---------------------------------------------------------------------------- helpers

/** Runs a statistics call; bad input (too little or degenerate data) becomes a note. */
function attempt<T>(fn: () => T): T | string {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'PLAYLOOP_STATS_INPUT_INVALID')
      return err.message;
    throw err;
  }
}

export function quantileLabel(q: number): string {
  return `startupMs:p${Number((q * 100).toPrecision(6))}`;
}

/** The sorted sample a play-delay histogram stands for (x_(1) <= ... <= x_(n)). */
export function expandHistogram(h: Histogram): Float64Array {
  let n = 0;
  for (const c of h.counts) n += c;
  const out = new Float64Array(n);
  let at = 0;
  h.values.forEach((v, i) => {
    const c = h.counts[i] as number;
    out.fill(v, at, at + c);
    at += c;
  });
  return out;
}

/** Mutable while the result is assembled; frozen into MetricResult. */
interface Row {
  readonly metric: string;
  readonly role: MetricRole;
  readonly better: Better;
  readonly method: AnalysisMethod;
  readonly decides: boolean;
  readonly cell: string;
  readonly control: boolean;
  readonly n: number;
  readonly estimate: number | null;
  readonly ci: Interval | null;
  note: string | null;
  comparison: MetricComparison | null;
  differenceCi: Interval | null;
  lift: RelativeLift | null;
  sequential: SequentialOutcome | null;
  pAdjusted: number | null;
  pAdjustment: PAdjustment;
  status: string | null;
}

function row(
  base: Omit<
    Row,
    'comparison' | 'differenceCi' | 'lift' | 'sequential' | 'pAdjusted' | 'pAdjustment' | 'status'
  >,
): Row {
  return {
    ...base,
    comparison: null,
    differenceCi: null,
    lift: null,
    sequential: null,
    pAdjusted: null,
    pAdjustment: 'none',
    status: null,
  };
}

interface MetricSpec {
  readonly metric: MetricName;
  readonly role: MetricRole;
  readonly better: Better;
  readonly margin?: EffectSize;
}

function metricSpecs(def: ExperimentDefinition): MetricSpec[] {
  const m = def.metrics;
  const primary: MetricSpec = {
    metric: m.primary.metric,
    role: 'primary',
    better: m.primary.better,
    ...(m.primary.margin === undefined ? {} : { margin: m.primary.margin }),
  };
  return [
    primary,
    ...m.secondary.map((s): MetricSpec => ({ metric: s.metric, role: 'secondary', better: s.better })),
    ...m.guardrails.map(
      (g): MetricSpec => ({ metric: g.metric, role: 'guardrail', better: g.better, margin: g.margin }),
    ),
  ];
}

// -------------------------------------------------------------------------------- power

interface PowerInputs {
  readonly def: ExperimentDefinition;
  readonly test: MetricTest;
  readonly control: string;
  readonly treatments: readonly string[];
  readonly weights: ReadonlyMap<string, number>;
  /** The primary's summary per cell, as the decision reads it (CUPED-adjusted when it applies). */
  readonly decidingSummary: (cell: string) => MeanSummary | null;
  /** The control's unadjusted value (mean or rate), the baseline of a relative MDE. */
  readonly baseline: number | null;
}

function planPower(p: PowerInputs): PowerPlan | string {
  const a = p.def.analysis;
  // The MDE is planned in the direction of improvement: for a rate, detecting 6% -> 5% needs
  // fewer units than 6% -> 7% (the variance is smaller), and the improvement is what we look for.
  const primary = p.def.metrics.primary;
  const sign = primary.better === 'lower' ? -1 : 1;
  const mde: EffectSize =
    primary.mde.relative !== undefined
      ? { relative: sign * Math.abs(primary.mde.relative) }
      : { absolute: sign * Math.abs(primary.mde.absolute ?? 0) };
  const alpha = a.alpha / p.treatments.length;
  const controlSummary = p.decidingSummary(p.control);
  if (controlSummary === null || p.baseline === null) {
    return `the control has fewer than 2 units with a value of ${p.def.metrics.primary.metric}`;
  }
  const wc = (p.weights.get(p.control) ?? 0) / 10_000;
  let planned = 0;
  let totalUnits = 0;
  let effect = 0;
  let currentPower = 1;
  const sd = Math.sqrt(controlSummary.variance);
  for (const t of p.treatments) {
    const weights = { control: wc, treatment: (p.weights.get(t) ?? 0) / 10_000 };
    const current = p.decidingSummary(t);
    const plan = attempt(() => {
      const sizes = { nControl: controlSummary.n, nTreatment: current?.n ?? 0 };
      if (p.test === 'two-proportion-z') {
        const rate = { baselineRate: p.baseline as number, mde, alpha };
        return {
          s: proportionsSampleSize({ ...rate, power: a.power, weights }),
          now: current === null ? 0 : proportionsPower(rate, sizes),
        };
      }
      const means = { baselineMean: p.baseline as number, standardDeviation: sd, mde, alpha };
      return {
        s: meansSampleSize({ ...means, power: a.power, weights }),
        now: current === null ? 0 : meansPower(means, sizes),
      };
    });
    if (typeof plan === 'string') return plan;
    const { s, now } = plan;
    planned = Math.max(planned, s.control, s.treatment);
    totalUnits = Math.max(totalUnits, s.totalUnits);
    effect = s.effect;
    currentPower = Math.min(currentPower, now);
  }
  return {
    metric: p.def.metrics.primary.metric,
    method: p.test === 'two-proportion-z' ? 'proportions' : 'means',
    baseline: p.baseline,
    standardDeviation: p.test === 'two-proportion-z' ? null : sd,
    effect,
    alpha,
    power: a.power,
    plannedSamplePerCell: planned,
    plannedTotalUnits: totalUnits,
    currentPower,
  };
}

// ------------------------------------------------------------------------- sequential

interface SequentialOutcome {
  readonly method: SequentialMethod;
  readonly pValue: number;
  readonly ci: Interval;
  readonly looks: number;
  readonly informationFraction: number | null;
  /** This run's look, when it was one (group-sequential only): what the store records. */
  readonly look: SequentialLook | null;
}

const WHOLE_LINE: Interval = { lower: Number.NEGATIVE_INFINITY, upper: Number.POSITIVE_INFINITY };

/**
 * The mSPRT over cumulative cohort looks: the fallback when there is no sample-size plan, so
 * no information fraction. With no usable look, p = 1 and the whole line.
 */
function msprtOf(looks: readonly MsprtLook[], alpha: number): SequentialOutcome {
  const last = looks[looks.length - 1];
  if (last === undefined) {
    return { method: 'msprt', pValue: 1, ci: WHOLE_LINE, looks: 0, informationFraction: null, look: null };
  }
  // τ² tuned to the variance of the difference now (there is no planned sample to tune it to).
  const horizon = last.control.variance / last.control.n + last.treatment.variance / last.treatment.n;
  const mixingVariance = msprtMixingVariance(alpha, horizon);
  const results = msprtSequence({ alpha, mixingVariance }, looks);
  const final = results[results.length - 1] as (typeof results)[number];
  return {
    method: 'msprt',
    pValue: final.pValue,
    ci: final.ci,
    looks: results.length,
    informationFraction: null,
    look: null,
  };
}

/**
 * The group-sequential test (Lan-DeMets alpha spending, group-sequential.ts) over the looks
 * the analysis has actually taken: one per recorded run (previous), plus this run. A look's
 * information fraction is its units over the planned units per cell, t = n_h / n_planned,
 * with n_h the harmonic mean of the two cells' n: for equal variances exactly the information
 * ratio (1/n_C + 1/n_T)⁻¹ / (2/n_planned)⁻¹, and it does not move with the variance estimate.
 * Every look's fraction is taken against this run's plan, the current estimate of the
 * maximum information (information-based monitoring, Mehta & Tsiatis 2001), so fractions
 * grow with the units even when the plan's estimate moves between runs. A look that adds
 * less than GROUP_SEQUENTIAL_MIN_GROWTH information over the previous one is not taken
 * (re-running on the same data spends nothing); the look reaching t >= 1 is final and spends
 * what is left, and after it the final state stands. The p-value is the repeated p-value
 * (J&T ch. 9), <= alpha exactly when a boundary was crossed; the interval is the running
 * intersection of repeated confidence intervals.
 */
function groupSequentialOf(
  previous: readonly SequentialLook[],
  current: MsprtLook | null,
  alpha: number,
  plannedPerCell: number,
  now: number,
): SequentialOutcome {
  const config = { alpha, spending: SEQUENTIAL_SPENDING };
  let state: GroupSequentialState = groupSequentialInitialState(config);
  const grows = (t: number): boolean =>
    t > 0 &&
    Number.isFinite(t) &&
    t >= state.continuation.informationFraction * (1 + GROUP_SEQUENTIAL_MIN_GROWTH);
  const take = (look: SequentialLook): void => {
    state = groupSequentialUpdate(config, state, {
      difference: look.difference,
      variance: look.variance,
      informationFraction: look.units / plannedPerCell,
    });
  };
  for (const look of previous) {
    if (state.finished) break;
    if (look.analyzedAt < now && look.variance > 0 && grows(look.units / plannedPerCell)) take(look);
  }
  let taken: SequentialLook | null = null;
  if (current !== null && !state.finished) {
    const { control, treatment } = current;
    const look: SequentialLook = {
      analyzedAt: now,
      units: 2 / (1 / control.n + 1 / treatment.n),
      difference: treatment.mean - control.mean,
      variance: control.variance / control.n + treatment.variance / treatment.n,
    };
    if (grows(look.units / plannedPerCell)) {
      take(look);
      taken = look;
    }
  }
  if (state.looks === 0) {
    return {
      method: 'group-sequential',
      pValue: 1,
      ci: WHOLE_LINE,
      looks: 0,
      informationFraction: null,
      look: null,
    };
  }
  return {
    method: 'group-sequential',
    pValue: groupSequentialRepeatedPValue(state),
    ci: state.ci,
    looks: state.looks,
    informationFraction: state.continuation.informationFraction,
    look: taken,
  };
}

/** The evidence decide() reads, tagged with the test that produced it. */
function sequentialEvidence(seq: SequentialOutcome): NonNullable<MetricComparison['sequential']> {
  return seq.method === 'group-sequential'
    ? { kind: 'group-sequential', pValue: seq.pValue, ci: seq.ci }
    : { kind: 'msprt', pValue: seq.pValue, ci: seq.ci };
}

/** Group-sequential with a plan, the mSPRT over cohort looks without one. */
function sequentialOf(
  cohortLooks: readonly MsprtLook[],
  previous: readonly SequentialLook[],
  alpha: number,
  plannedPerCell: number | null,
  now: number,
): SequentialOutcome {
  if (plannedPerCell === null) return msprtOf(cohortLooks, alpha);
  return groupSequentialOf(previous, cohortLooks[cohortLooks.length - 1] ?? null, alpha, plannedPerCell, now);
}

function usableLook(control: MeanSummary | null, treatment: MeanSummary | null): MsprtLook | null {
  if (control === null || treatment === null) return null;
  if (!(control.variance / control.n + treatment.variance / treatment.n > 0)) return null;
  return { control, treatment };
}

// ------------------------------------------------------------------------------ evaluate

export function evaluateExperiment(
  def: ExperimentDefinition,
  stats: SufficientStatistics,
  options: EvaluateOptions,
): ExperimentResult {
  const { alpha } = def.analysis;
  const mode = options.mode;
  const cellNames = def.cells.map((c) => c.name);
  const control = (def.cells.find((c) => c.control) ?? def.cells[0])?.name as string;
  const treatments = cellNames.filter((c) => c !== control);
  const weights = new Map(def.cells.map((c) => [c.name, c.weight]));
  const metricCount = stats.metrics.length;
  const metricIndex = (m: MetricName): number => stats.metrics.indexOf(m);

  // 1. Totals, cells, SRM.
  const totals = new Map<string, CellSums>(cellNames.map((c) => [c, emptyCell(metricCount)]));
  const strangers = new Map<string, number>();
  for (const c of stats.cohorts) {
    const t = totals.get(c.cell);
    if (t === undefined) strangers.set(c.cell, (strangers.get(c.cell) ?? 0) + c.units);
    else totals.set(c.cell, addCohort(t, c));
  }
  const total = (cell: string): CellSums => totals.get(cell) as CellSums;
  const known = stats.cohorts.filter((c) => weights.has(c.cell));
  const firstAllocationMs = known.length === 0 ? null : Math.min(...known.map((c) => c.firstAllocationMs));
  const runtimeDays =
    firstAllocationMs === null ? 0 : Math.max(0, (options.now - firstAllocationMs) / DAY_MS);
  const cells: CellOverview[] = def.cells.map((c) => ({
    cell: c.name,
    control: c.control,
    weight: c.weight,
    units: total(c.name).units,
    sessionViews: total(c.name).sessionViews,
    unitsInSeveralCells: total(c.name).unitsInSeveralCells,
  }));
  const unitCount = cells.reduce((s, c) => s + c.units, 0);
  const srm: SrmResult | null =
    unitCount === 0
      ? null
      : sampleRatioMismatch(cells.map((c) => ({ cell: c.cell, observed: c.units, weight: c.weight })));
  const { days, looks } = cumulativeLooks(known, cellNames, metricCount);

  // 2. CUPED on the primary.
  const primary = def.metrics.primary.metric;
  const primaryIndex = metricIndex(primary);
  const primaryTest = metricTest(primary, def.unit);
  const cupedFit = fitCuped(new Map(cellNames.map((c) => [c, total(c).cuped])));
  const cupedApplies =
    cupedFit !== null &&
    cupedSummaryOf(cupedFit, control) !== null &&
    treatments.some((t) => cupedSummaryOf(cupedFit, t) !== null);
  const cuped: CupedSummary | null =
    cupedFit === null || !cupedApplies
      ? null
      : {
          metric: primary,
          theta: cupedFit.result.theta,
          correlation: cupedFit.result.correlation,
          covariateMean: cupedFit.result.covariateMean,
          unitsWithCovariate: cupedFit.withCovariate,
          unitsWithoutCovariate: cupedFit.withoutCovariate,
          varianceReduction: Object.fromEntries(
            cupedFit.cells.map((c, i) => [c, cupedFit.result.cells[i]?.varianceReduction ?? 0]),
          ),
        };

  // 3. Power.
  const primaryMoments = (cell: string): MomentSums => total(cell).metrics[primaryIndex] ?? ZERO_MOMENTS;
  const controlPrimary = primaryMoments(control);
  const power = planPower({
    def,
    test: cuped !== null ? 'welch' : primaryTest,
    control,
    treatments,
    weights,
    decidingSummary: (cell) =>
      cuped !== null && cupedFit !== null ? cupedSummaryOf(cupedFit, cell) : summaryOf(primaryMoments(cell)),
    baseline: controlPrimary.n === 0 ? null : controlPrimary.sum / controlPrimary.n,
  });
  const plannedPerCell = typeof power === 'string' ? null : power.plannedSamplePerCell;
  const now = options.now;
  const previousOf = (metric: string, method: string, cell: string): readonly SequentialLook[] =>
    options.previousLooks?.get(sequentialLookKey(metric, method, cell)) ?? [];

  // 4. Metrics.
  const rows: Row[] = [];
  for (const spec of metricSpecs(def)) {
    const idx = metricIndex(spec.metric);
    const test = metricTest(spec.metric, def.unit);
    const cupedDecides = spec.role === 'primary' && cuped !== null;
    const moments = (cell: string): MomentSums => total(cell).metrics[idx] ?? ZERO_MOMENTS;
    const summaryAt = (cell: string, look: number): MeanSummary | null =>
      summaryOf(looks.get(cell)?.[look]?.metrics[idx] ?? ZERO_MOMENTS);
    const method: AnalysisMethod = test === 'two-proportion-z' ? 'two-proportion-z' : 'welch';
    for (const cell of cellNames) {
      const m = moments(cell);
      const isControl = cell === control;
      let estimate: number | null = null;
      let ci: Interval | null = null;
      if (test === 'two-proportion-z') {
        estimate = m.n > 0 ? m.sum / m.n : null;
        ci = wilsonInterval(m.sum, m.n, alpha);
      } else {
        const s = summaryOf(m);
        estimate = m.n > 0 ? m.sum / m.n : null;
        ci = s === null ? null : meanInterval(s, alpha);
      }
      const r = row({
        metric: spec.metric,
        role: spec.role,
        better: spec.better,
        method,
        decides: !cupedDecides,
        cell,
        control: isControl,
        n: m.n,
        estimate,
        ci,
        note: m.n === 0 ? 'no unit with a value' : null,
      });
      if (!isControl) {
        const meta: ComparisonMeta = {
          metric: spec.metric,
          role: spec.role,
          better: spec.better,
          cell,
          ...(spec.margin === undefined ? {} : { margin: spec.margin }),
        };
        const computed = attempt(() => {
          if (test === 'two-proportion-z') {
            const c = moments(control);
            if (c.n < 1 || m.n < 1) return null;
            const z = twoProportionZTest(
              { n: c.n, successes: c.sum },
              { n: m.n, successes: m.sum },
              { alpha },
            );
            return { comparison: fromProportions(meta, z), ci: z.ci, lift: z.relativeLift };
          }
          const cs = summaryOf(moments(control));
          const ts = summaryOf(m);
          if (cs === null || ts === null) return null;
          const w = welchTTest(cs, ts, { alpha });
          return { comparison: fromWelch(meta, w), ci: w.ci, lift: w.relativeLift };
        });
        if (computed === null) {
          r.note = 'fewer than 2 units with a value in this cell or the control';
        } else if (typeof computed === 'string') {
          r.note = computed;
        } else {
          // Cohort looks only feed the mSPRT fallback; the group-sequential test looks once per run.
          const seqLooks: MsprtLook[] = [];
          if (plannedPerCell === null) {
            for (let k = 0; k < days.length; k++) {
              const look = usableLook(summaryAt(control, k), summaryAt(cell, k));
              if (look !== null) seqLooks.push(look);
            }
          } else {
            const look = usableLook(summaryOf(moments(control)), summaryOf(m));
            if (look !== null) seqLooks.push(look);
          }
          const seq = sequentialOf(
            seqLooks,
            previousOf(spec.metric, method, cell),
            alpha,
            plannedPerCell,
            now,
          );
          r.comparison = { ...computed.comparison, sequential: sequentialEvidence(seq) };
          r.differenceCi = computed.ci;
          r.lift = computed.lift;
          r.sequential = seq;
        }
      }
      rows.push(r);
    }
    if (cupedDecides && cupedFit !== null) {
      for (const cell of cellNames) {
        const adjusted = cupedSummaryOf(cupedFit, cell);
        const r = row({
          metric: spec.metric,
          role: spec.role,
          better: spec.better,
          method: 'cuped-welch',
          decides: true,
          cell,
          control: cell === control,
          n: adjusted?.n ?? 0,
          estimate: adjusted?.mean ?? null,
          ci: adjusted === null ? null : meanInterval(adjusted, alpha),
          note: adjusted === null ? 'fewer than 2 units with a value' : null,
        });
        const controlAdjusted = cupedSummaryOf(cupedFit, control);
        if (cell !== control && adjusted !== null && controlAdjusted !== null) {
          const meta: ComparisonMeta = {
            metric: spec.metric,
            role: spec.role,
            better: spec.better,
            cell,
            ...(spec.margin === undefined ? {} : { margin: spec.margin }),
          };
          const w = attempt(() => welchTTest(controlAdjusted, adjusted, { alpha }));
          if (typeof w === 'string') {
            r.note = w;
          } else {
            const seqLooks: MsprtLook[] = [];
            if (plannedPerCell === null) {
              for (let k = 0; k < days.length; k++) {
                const fit = attempt(() =>
                  fitCuped(new Map(cellNames.map((c) => [c, looks.get(c)?.[k]?.cuped ?? ZERO_CUPED]))),
                );
                if (fit === null || typeof fit === 'string') continue;
                const look = usableLook(cupedSummaryOf(fit, control), cupedSummaryOf(fit, cell));
                if (look !== null) seqLooks.push(look);
              }
            } else {
              const look = usableLook(controlAdjusted, adjusted);
              if (look !== null) seqLooks.push(look);
            }
            const seq = sequentialOf(
              seqLooks,
              previousOf(spec.metric, 'cuped-welch', cell),
              alpha,
              plannedPerCell,
              now,
            );
            r.comparison = { ...fromWelch(meta, w), sequential: sequentialEvidence(seq) };
            r.differenceCi = w.ci;
            r.lift = w.relativeLift;
            r.sequential = seq;
          }
        } else if (cell !== control && r.note === null) {
          r.note = 'fewer than 2 units with a value in the control';
        }
        rows.push(r);
      }
    }
  }
  rows.push(...quantileRows(stats.playDelay, cellNames, control, alpha, options.quantiles));

  // 5. Decision.
  const deciding = (cell: string): Row[] =>
    rows.filter((r) => r.cell === cell && r.decides && (r.role === 'primary' || r.role === 'guardrail'));
  const missing = new Map<string, string[]>();
  for (const t of treatments) {
    const lacking = deciding(t)
      .filter((r) => r.comparison === null)
      .map((r) => `${r.metric} (${r.note ?? 'not computed'})`);
    if (lacking.length > 0) missing.set(t, lacking);
  }
  const assessable = treatments.filter((t) => !missing.has(t));
  const ruleKind = def.analysis.decisionRule;
  let decision: ExperimentDecision;
  let assessments: readonly CellAssessment[] = [];
  const plannedForRule = plannedPerCell ?? Number.MAX_SAFE_INTEGER;
  if (srm === null) {
    decision = {
      kind: 'continue',
      cell: null,
      reasons: ['No unit has been allocated to this experiment yet.'],
    };
  } else if (assessable.length === 0) {
    decision = srm.mismatch
      ? { kind: 'keep-control', cell: null, reasons: srmReasons(srm) }
      : {
          kind: 'continue',
          cell: null,
          reasons: [
            'Not enough data to compare any treatment cell with the control yet.',
            ...[...missing].map(([cell, what]) => `Cell ${cell} lacks ${what.join('; ')}.`),
          ],
        };
  } else {
    const comparisons = rows
      .filter((r) => r.comparison !== null && r.decides && assessable.includes(r.cell))
      .map((r) => r.comparison as MetricComparison);
    const d: Decision = decide({
      controlCell: control,
      treatmentCells: assessable,
      runtimeDays,
      srm,
      comparisons,
      rule: {
        alpha,
        kind: ruleKind,
        mode,
        plannedSamplePerCell: plannedForRule,
        minRuntimeDays: def.analysis.minRuntimeDays,
      },
    });
    assessments = d.cells;
    const extra: string[] = [];
    let kind = d.decision;
    if (missing.size > 0 && !srm.mismatch) {
      extra.push(
        ...[...missing].map(
          ([cell, what]) => `Cell ${cell} cannot be assessed yet: it lacks ${what.join('; ')}.`,
        ),
      );
      // Keeping the control is a verdict on every cell; with a cell unassessed it is premature.
      if (kind === 'keep-control') kind = 'continue';
    }
    decision = { kind, cell: kind === 'ship' ? d.cell : null, reasons: [...d.reasons, ...extra] };
    applyAssessments(rows, d.cells, mode, ruleKind);
  }
  applySecondaryAdjustment(rows, mode, alpha);
  applyInformativeHolm(rows);

  const notes: string[] = [];
  const sequentialMethod: SequentialMethod = plannedPerCell === null ? 'msprt' : 'group-sequential';
  if (typeof power === 'string') {
    notes.push(
      `No sample-size plan: ${power}. Without a plan there is no information fraction, so the sequential evidence is the mSPRT's (always valid, and conservative at a few looks) over daily cohorts, instead of the group-sequential test.`,
    );
  }
  if (strangers.size > 0) {
    notes.push(
      `Left out: units in cells the definition does not name (${[...strangers].map(([c, n]) => `${c}: ${n}`).join(', ')}).`,
    );
  }
  const several = cells.reduce((s, c) => s + c.unitsInSeveralCells, 0);
  if (several > 0) {
    notes.push(
      `${several} unit(s) were allocated to more than one cell; each is analysed in its first cell.`,
    );
  }
  const analyzedAt = options.now;
  return {
    experimentKey: def.key,
    definitionDigest: definitionDigest(def),
    analysisId: `${def.key}@${new Date(analyzedAt).toISOString()}`,
    analyzedAt,
    unit: def.unit,
    decisionRule: ruleKind,
    mode,
    alpha,
    controlCell: control,
    firstAllocationAt: firstAllocationMs,
    runtimeDays,
    sequentialMethod,
    looks: Math.max(0, ...rows.map((r) => r.sequential?.looks ?? 0)),
    cells,
    srm,
    power: typeof power === 'string' ? null : power,
    cuped,
    metrics: rows.map(freeze),
    decision: { ...decision, reasons: [...decision.reasons, ...notes] },
    assessments,
  };
}

function srmReasons(srm: SrmResult): string[] {
  const shares = srm.cells
    .map(
      (c) =>
        `${c.cell} ${(100 * c.observedShare).toFixed(2)}% vs ${(100 * c.expectedShare).toFixed(2)}% expected`,
    )
    .join(', ');
  return [
    `Sample ratio mismatch: chi-square ${srm.chiSquare.toPrecision(3)} on ${srm.degreesOfFreedom} df, p=${srm.pValue.toPrecision(2)} < ${srm.threshold} (${shares}).`,
    'Assignment or logging is broken, so no metric can be trusted: fix the cause and restart the experiment with a new seed.',
  ];
}

function quantileRows(
  playDelay: ReadonlyMap<string, Histogram>,
  cellNames: readonly string[],
  control: string,
  alpha: number,
  quantiles: readonly number[],
): Row[] {
  if (quantiles.length === 0) return [];
  const histograms = new Map(
    cellNames.map((cell) => [cell, ranked(playDelay.get(cell) ?? { values: [], counts: [] })]),
  );
  // The difference test (Maritz-Jarrett) reads the O(√n) order statistics around each
  // quantile's rank straight from the histogram: no sample is materialised or copied.
  const orderedOf = (cell: string): OrderedSample => {
    const h = histograms.get(cell) as RankedHistogram;
    return { n: h.n, at: (rank) => orderStatistic(h, rank) };
  };
  const out: Row[] = [];
  const controlN = histograms.get(control)?.n ?? 0;
  for (const q of quantiles) {
    const metric = quantileLabel(q);
    for (const cell of cellNames) {
      const h = histograms.get(cell) as RankedHistogram;
      const interval = h.n === 0 ? null : quantileIntervalFromHistogram(h, q, alpha);
      const r = row({
        metric,
        role: 'secondary',
        better: 'lower',
        method: 'quantile',
        decides: true,
        cell,
        control: cell === control,
        n: h.n,
        estimate: interval?.estimate ?? null,
        ci: interval?.ci ?? null,
        note: h.n === 0 ? 'no play delay measured' : null,
      });
      if (cell !== control) {
        if (h.n < 2 || controlN < 2) {
          r.note = 'fewer than 2 play delays in this cell or the control';
        } else {
          const d = quantileDifferenceOrdered(orderedOf(control), orderedOf(cell), q, { alpha });
          r.comparison = fromQuantileDifference({ metric, role: 'secondary', better: 'lower', cell }, d);
          r.differenceCi = d.ci;
          r.lift = d.relativeLift;
        }
      }
      out.push(r);
    }
  }
  return out;
}

/** Primary and guardrail statuses and the primary's Holm-adjusted p-values, from decide. */
function applyAssessments(
  rows: Row[],
  assessments: readonly CellAssessment[],
  mode: TestMode,
  rule: string,
): void {
  for (const a of assessments) {
    for (const p of a.primary) {
      const r = rows.find(
        (x) => x.cell === a.cell && x.metric === p.metric && x.role === 'primary' && x.decides,
      );
      if (r === undefined) continue;
      r.status = p.status;
      if (rule === 'non-inferiority') {
        // Fixed horizon: Holm over one-sided non-inferiority p-values; sequential: read from
        // the confidence sequence, with no p-value to adjust.
        r.pAdjusted = mode === 'sequential' ? null : p.adjustedPValue;
        r.pAdjustment = mode === 'sequential' ? 'none' : 'holm-non-inferiority';
      } else {
        r.pAdjusted = p.adjustedPValue;
        r.pAdjustment = mode === 'sequential' ? 'holm-sequential' : 'holm';
      }
    }
    for (const g of a.guardrails) {
      const r = rows.find((x) => x.cell === a.cell && x.metric === g.metric && x.role === 'guardrail');
      if (r !== undefined) r.status = g.status;
    }
  }
}

/**
 * Benjamini-Hochberg across every secondary comparison (metrics and quantiles), on the
 * p-values decide uses for them: the always-valid ones when the test is sequential.
 */
function applySecondaryAdjustment(rows: Row[], mode: TestMode, alpha: number): void {
  const secondary = rows.filter((r) => r.role === 'secondary' && r.comparison !== null);
  if (secondary.length === 0) return;
  const raw = secondary.map((r) => {
    const c = r.comparison as MetricComparison;
    return mode === 'sequential' && c.sequential !== undefined ? c.sequential.pValue : c.pValue;
  });
  const adjusted = benjaminiHochbergAdjust(raw);
  secondary.forEach((r, i) => {
    const p = adjusted[i] as number;
    const c = r.comparison as MetricComparison;
    r.pAdjusted = p;
    r.pAdjustment = 'benjamini-hochberg';
    const better = (r.better === 'higher' ? 1 : -1) * c.difference > 0;
    r.status = p <= alpha ? (better ? 'improved' : 'worsened') : 'no-change';
  });
}

/** Holm across cells for the primary rows that inform but do not decide (unadjusted, when CUPED decides). */
function applyInformativeHolm(rows: Row[]): void {
  const informative = rows.filter((r) => r.role === 'primary' && !r.decides && r.comparison !== null);
  if (informative.length === 0) return;
  const adjusted = holmAdjust(informative.map((r) => (r.comparison as MetricComparison).pValue));
  informative.forEach((r, i) => {
    r.pAdjusted = adjusted[i] as number;
    r.pAdjustment = 'holm';
  });
}

function freeze(r: Row): MetricResult {
  const c = r.comparison;
  return {
    metric: r.metric,
    role: r.role,
    better: r.better,
    method: r.method,
    decides: r.decides,
    cell: r.cell,
    control: r.control,
    n: r.n,
    estimate: r.estimate,
    ci: r.ci,
    comparison:
      c === null
        ? null
        : {
            controlEstimate: c.controlValue,
            difference: c.difference,
            standardError: c.standardError,
            ci: r.differenceCi as Interval,
            lift: r.lift,
            pValue: c.pValue,
            pAdjusted: r.pAdjusted,
            pAdjustment: r.pAdjustment,
            sequential:
              c.sequential === undefined
                ? null
                : {
                    method: r.sequential?.method ?? 'msprt',
                    pValue: c.sequential.pValue,
                    ci: c.sequential.ci,
                    looks: r.sequential?.looks ?? 0,
                    informationFraction: r.sequential?.informationFraction ?? null,
                    look: r.sequential?.look ?? null,
                  },
          },
    status: r.status,
    note: r.note,
  };
}
