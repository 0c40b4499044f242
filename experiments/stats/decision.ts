/**
 * One decision per experiment: ship a treatment cell, keep the control, or continue.
 *
 * The rule follows the risk-aware framing of Schultzberg, Ankargren & Frånberg, "Risk-aware
 * product decisions in A/B tests with multiple metrics" (Spotify, 2024), and the decision
 * rules of experiments/definitions:
 * - `superiority`: a cell ships when a primary metric is better than the control's at
 *   `alpha` (two-sided test, Holm-adjusted across treatment cells and primary metrics so
 *   the chance of shipping a cell that is no better stays <= alpha), no primary is
 *   significantly worse, and every guardrail passes its non-inferiority test.
 * - `non-inferiority`: a cell ships when every primary metric is shown worse than the
 *   control by no more than its margin (one-sided at `alpha`, Holm across cells) and every
 *   guardrail passes.
 * - Guardrails: non-inferiority tests, one-sided at `alpha` against the metric's margin:
 *   `pass` when the harmful-side bound is within the margin, `breach` when even the
 *   favourable-side bound is beyond it, `inconclusive` otherwise. All guardrails must pass
 *   (an intersection-union test, which needs no multiplicity correction: Berger, "Multiparameter
 *   hypothesis testing and acceptance sampling", Technometrics 24, 1982). A breach blocks
 *   shipping that cell; so does an inconclusive guardrail, since safety was not shown.
 * - Secondary metrics never decide; they are reported with Benjamini-Hochberg adjusted
 *   p-values.
 *
 * When results may be read:
 * - A sample ratio mismatch makes every metric untrustworthy: keep the control at once.
 * - `fixed-horizon`: p-values and intervals are valid only at the planned sample size
 *   (reading them earlier and stopping on significance inflates false positives), so
 *   nothing is decided until every cell has `plannedSamplePerCell` units.
 * - `sequential`: the comparisons' sequential evidence (comparison.ts `SequentialEvidence`)
 *   may be read at every look: the always-valid mSPRT p-values and confidence sequences
 *   (msprt.ts), or a group-sequential design's repeated p-values and repeated confidence
 *   intervals (group-sequential.ts, J&T ch. 9), whose p-value is <= alpha exactly when the
 *   spending boundary was crossed. Bounds then come from the two-sided interval at
 *   `alpha`, which is conservative for a one-sided test. (Holm applies to always-valid and
 *   repeated p-values as to any others; the intervals are not multiplicity-adjusted, so with
 *   several treatment cells under the non-inferiority rule compute them at alpha / cells.)
 * - Shipping waits for `minRuntimeDays` (whole weekly cycles); stopping for harm (every
 *   treatment cell breaches a guardrail or loses on a primary metric) does not.
 * - Without a winner, the control is kept once every cell has its planned sample.
 */
import type { Better, MetricComparison } from './comparison.ts';
import { invalid, requireNonNegative, requireOpenUnit, requirePositive } from './errors.ts';
import { benjaminiHochbergAdjust, holmAdjust } from './multiple-comparisons.ts';
import { normalQuantile, normalSf } from './normal.ts';
import type { SrmResult } from './srm.ts';
import { studentTQuantile, studentTSf } from './student-t.ts';
import type { EffectSize } from './types.ts';

export type DecisionKind = 'ship' | 'keep-control' | 'continue';
export type RuleKind = 'superiority' | 'non-inferiority';
export type TestMode = 'fixed-horizon' | 'sequential';

export interface DecisionRule {
  readonly alpha: number;
  readonly kind: RuleKind;
  readonly mode: TestMode;
  /** Units per cell the power calculation planned for (power.ts). */
  readonly plannedSamplePerCell: number;
  /** No cell ships before this many days of runtime. */
  readonly minRuntimeDays: number;
}

export interface DecisionInput {
  readonly controlCell: string;
  readonly treatmentCells: readonly string[];
  readonly runtimeDays: number;
  readonly srm: SrmResult;
  /** Every primary, secondary and guardrail metric for every treatment cell. */
  readonly comparisons: readonly MetricComparison[];
  readonly rule: DecisionRule;
}

export type PrimaryStatus = 'better' | 'worse' | 'non-inferior' | 'inferior' | 'inconclusive';
export type GuardrailStatus = 'pass' | 'breach' | 'inconclusive';

export interface PrimaryAssessment {
  readonly metric: string;
  readonly status: PrimaryStatus;
  readonly difference: number;
  /** difference / |control value|, null when the control value is 0. */
  readonly relativeDifference: number | null;
  /**
   * The p-value the decision used, after Holm adjustment; null under the sequential
   * non-inferiority rule, which reads the confidence sequence instead.
   */
  readonly adjustedPValue: number | null;
}

export interface GuardrailAssessment {
  readonly metric: string;
  readonly status: GuardrailStatus;
  /** The allowed degradation in the metric's unit (>= 0). */
  readonly margin: number;
  /** The difference's bound on the harmful side (the worst case the data allow). */
  readonly harmfulBound: number;
}

export interface CellAssessment {
  readonly cell: string;
  /** The smallest of this cell's and the control's unit counts over its comparisons. */
  readonly minSample: number;
  readonly primary: readonly PrimaryAssessment[];
  readonly guardrails: readonly GuardrailAssessment[];
  /** Every condition for shipping holds. */
  readonly eligible: boolean;
  /** A guardrail breach or a primary metric significantly worse (or inferior). */
  readonly harmful: boolean;
}

export interface Decision {
  readonly decision: DecisionKind;
  /** The cell to ship; null unless decision is 'ship'. */
  readonly cell: string | null;
  /** Human-readable, in order of importance. */
  readonly reasons: readonly string[];
  /** Per treatment cell; empty when nothing could be assessed (SRM, fixed horizon not reached). */
  readonly cells: readonly CellAssessment[];
}

// ---------------------------------------------------------------------------------- helpers

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Number(x.toPrecision(3)).toString();
}

function fmtP(p: number): string {
  return p < 1e-4 ? p.toExponential(1) : fmt(p);
}

function pct(x: number): string {
  return `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`;
}

function signOf(better: Better): 1 | -1 {
  return better === 'higher' ? 1 : -1;
}

function describeDifference(c: MetricComparison): string {
  const relative = c.controlValue !== 0 ? ` (${pct(c.difference / Math.abs(c.controlValue))})` : '';
  return `${c.difference >= 0 ? '+' : ''}${fmt(c.difference)}${relative}`;
}

/** The absolute margin (>= 0) an EffectSize stands for at the control's value. */
function resolveMargin(c: MetricComparison, margin: EffectSize): number {
  const hasRelative = margin.relative !== undefined;
  const hasAbsolute = margin.absolute !== undefined;
  if (hasRelative === hasAbsolute) {
    throw invalid(`the margin of ${c.metric} needs exactly one of relative or absolute`, {
      metric: c.metric,
    });
  }
  const value = hasRelative
    ? Math.abs(margin.relative as number) * Math.abs(c.controlValue)
    : Math.abs(margin.absolute as number);
  if (!Number.isFinite(value)) throw invalid(`the margin of ${c.metric} is not finite`, { metric: c.metric });
  return value;
}

/**
 * Bounds of the improvement g = sign·difference (positive = better): one-sided at alpha
 * from the t or z statistic (fixed horizon), or the confidence sequence (sequential).
 */
function improvementBounds(
  c: MetricComparison,
  mode: TestMode,
  alpha: number,
): { low: number; high: number } {
  const s = signOf(c.better);
  let lower: number;
  let upper: number;
  if (mode === 'sequential') {
    const seq = c.sequential as NonNullable<MetricComparison['sequential']>;
    lower = seq.ci.lower;
    upper = seq.ci.upper;
  } else {
    const q = Number.isFinite(c.degreesOfFreedom)
      ? studentTQuantile(1 - alpha, c.degreesOfFreedom)
      : normalQuantile(1 - alpha);
    lower = c.difference - q * c.standardError;
    upper = c.difference + q * c.standardError;
  }
  return s === 1 ? { low: lower, high: upper } : { low: -upper, high: -lower };
}

/** One-sided p-value of H0: g <= -margin against g > -margin. */
function nonInferiorityPValue(c: MetricComparison, margin: number): number {
  const g = signOf(c.better) * c.difference;
  if (c.standardError === 0) return g > -margin ? 0 : 1;
  const stat = (g + margin) / c.standardError;
  return Number.isFinite(c.degreesOfFreedom) ? studentTSf(stat, c.degreesOfFreedom) : normalSf(stat);
}

function validate(input: DecisionInput): void {
  const { rule } = input;
  requireOpenUnit('rule.alpha', rule.alpha);
  requirePositive('rule.plannedSamplePerCell', rule.plannedSamplePerCell);
  requireNonNegative('rule.minRuntimeDays', rule.minRuntimeDays);
  requireNonNegative('runtimeDays', input.runtimeDays);
  if (input.treatmentCells.length === 0) throw invalid('a decision needs at least one treatment cell');
  const cells = new Set(input.treatmentCells);
  if (cells.size !== input.treatmentCells.length) throw invalid('treatment cells must be unique');
  if (cells.has(input.controlCell))
    throw invalid(`the control cell ${input.controlCell} is listed as a treatment`);
  const seen = new Set<string>();
  for (const c of input.comparisons) {
    if (!cells.has(c.cell))
      throw invalid(`comparison of ${c.metric} names unknown cell ${c.cell}`, { cell: c.cell });
    const key = `${c.metric}\u0000${c.cell}`;
    if (seen.has(key))
      throw invalid(`metric ${c.metric} appears twice for cell ${c.cell}`, { metric: c.metric });
    seen.add(key);
    if (!(c.standardError >= 0 && Number.isFinite(c.standardError) && Number.isFinite(c.difference))) {
      throw invalid(`comparison of ${c.metric} in ${c.cell} has a non-finite estimate`, { metric: c.metric });
    }
    if (!(c.pValue >= 0 && c.pValue <= 1))
      throw invalid(`p-value of ${c.metric} in ${c.cell} is not in [0, 1]`);
    const decides = c.role === 'guardrail' || c.role === 'primary';
    if (c.role === 'guardrail' && c.margin === undefined) {
      throw invalid(`guardrail ${c.metric} needs a margin`, { metric: c.metric });
    }
    if (c.role === 'primary' && rule.kind === 'non-inferiority' && c.margin === undefined) {
      throw invalid(`primary ${c.metric} needs a margin under the non-inferiority rule`, {
        metric: c.metric,
      });
    }
    if (decides && rule.mode === 'sequential' && c.sequential === undefined) {
      throw invalid(
        `${c.role} ${c.metric} in ${c.cell} has no sequential result but the rule is sequential`,
        {
          metric: c.metric,
          cell: c.cell,
        },
      );
    }
  }
  for (const cell of input.treatmentCells) {
    if (!input.comparisons.some((c) => c.cell === cell && c.role === 'primary')) {
      throw invalid(`cell ${cell} has no primary metric comparison`, { cell });
    }
  }
}

// --------------------------------------------------------------------------------- decision

function assessCells(input: DecisionInput): CellAssessment[] {
  const { rule } = input;
  const alpha = rule.alpha;
  const primaries = input.comparisons.filter((c) => c.role === 'primary');
  // The p-value each primary is judged on, Holm-adjusted across cells and primary metrics.
  const margins = primaries.map((c) => (c.margin === undefined ? 0 : resolveMargin(c, c.margin)));
  const raw = primaries.map((c, i) => {
    if (rule.kind === 'non-inferiority') {
      // Sequential non-inferiority is read from the confidence sequence below; its p-value is not used.
      return rule.mode === 'sequential' ? 1 : nonInferiorityPValue(c, margins[i] as number);
    }
    return rule.mode === 'sequential' ? (c.sequential?.pValue ?? 1) : c.pValue;
  });
  const adjusted = holmAdjust(raw);

  return input.treatmentCells.map((cell) => {
    const mine = input.comparisons.filter((c) => c.cell === cell);
    const minSample = Math.min(...mine.map((c) => Math.min(c.nControl, c.nTreatment)));
    const primary: PrimaryAssessment[] = [];
    primaries.forEach((c, i) => {
      if (c.cell !== cell) return;
      const adjustedPValue = adjusted[i] as number;
      const margin = margins[i] as number;
      const g = signOf(c.better) * c.difference;
      const bounds = improvementBounds(c, rule.mode, alpha);
      let status: PrimaryStatus;
      if (rule.kind === 'superiority') {
        status =
          adjustedPValue <= alpha ? (g > 0 ? 'better' : g < 0 ? 'worse' : 'inconclusive') : 'inconclusive';
      } else if (bounds.high < -margin) {
        status = 'inferior';
      } else if (rule.mode === 'sequential' ? bounds.low > -margin : adjustedPValue <= alpha) {
        status = 'non-inferior';
      } else {
        status = 'inconclusive';
      }
      const readsSequence = rule.kind === 'non-inferiority' && rule.mode === 'sequential';
      primary.push({
        metric: c.metric,
        status,
        difference: c.difference,
        relativeDifference: c.controlValue !== 0 ? c.difference / Math.abs(c.controlValue) : null,
        adjustedPValue: readsSequence ? null : adjustedPValue,
      });
    });
    const guardrails: GuardrailAssessment[] = mine
      .filter((c) => c.role === 'guardrail')
      .map((c) => {
        const margin = resolveMargin(c, c.margin as EffectSize);
        const bounds = improvementBounds(c, rule.mode, alpha);
        const status: GuardrailStatus =
          bounds.low > -margin ? 'pass' : bounds.high < -margin ? 'breach' : 'inconclusive';
        return { metric: c.metric, status, margin, harmfulBound: signOf(c.better) * bounds.low };
      });
    const primaryGood =
      rule.kind === 'superiority'
        ? primary.some((p) => p.status === 'better') && !primary.some((p) => p.status === 'worse')
        : primary.every((p) => p.status === 'non-inferior');
    const harmful =
      guardrails.some((g) => g.status === 'breach') ||
      primary.some((p) => p.status === 'worse' || p.status === 'inferior');
    return {
      cell,
      minSample,
      primary,
      guardrails,
      eligible: primaryGood && guardrails.every((g) => g.status === 'pass'),
      harmful,
    };
  });
}

function describeCell(cell: CellAssessment, input: DecisionInput): string {
  const byMetric = new Map(input.comparisons.filter((c) => c.cell === cell.cell).map((c) => [c.metric, c]));
  const parts = cell.primary.map((p) => {
    const c = byMetric.get(p.metric) as MetricComparison;
    const interval =
      c.sequential?.kind === 'group-sequential' ? 'repeated confidence interval' : 'confidence sequence';
    const evidence =
      p.adjustedPValue === null
        ? `${interval} ${fmt(c.sequential?.ci.lower ?? Number.NaN)} to ${fmt(c.sequential?.ci.upper ?? Number.NaN)}`
        : `adjusted p=${fmtP(p.adjustedPValue)}`;
    return `primary ${p.metric} ${describeDifference(c)} ${p.status} (${evidence})`;
  });
  for (const g of cell.guardrails) {
    const c = byMetric.get(g.metric) as MetricComparison;
    const detail = `worst case ${g.harmfulBound >= 0 ? '+' : ''}${fmt(g.harmfulBound)} vs margin ${fmt(g.margin)}`;
    parts.push(`guardrail ${g.metric} ${describeDifference(c)} ${g.status} (${detail})`);
  }
  return `Cell ${cell.cell}: ${parts.join('; ')}.`;
}

function secondaryReasons(input: DecisionInput): string[] {
  const secondary = input.comparisons.filter((c) => c.role === 'secondary');
  if (secondary.length === 0) return [];
  const sequential = input.rule.mode === 'sequential';
  const raw = secondary.map((c) =>
    sequential && c.sequential !== undefined ? c.sequential.pValue : c.pValue,
  );
  const adjusted = benjaminiHochbergAdjust(raw);
  const significant = secondary
    .map((c, i) => ({ c, p: adjusted[i] as number }))
    .filter(({ p }) => p <= input.rule.alpha)
    .map(({ c, p }) => {
      const good = signOf(c.better) * c.difference > 0;
      return `${c.metric} in ${c.cell} ${describeDifference(c)} ${good ? 'improved' : 'worsened'} (BH-adjusted p=${fmtP(p)})`;
    });
  const quiet = secondary.length - significant.length;
  const tail = quiet > 0 ? `${significant.length > 0 ? '; ' : ''}${quiet} without a significant change` : '';
  return [`Secondary metrics (informative only): ${significant.join('; ')}${tail}.`];
}

export function decide(input: DecisionInput): Decision {
  validate(input);
  const { rule, srm } = input;

  if (srm.mismatch) {
    const shares = srm.cells
      .map(
        (c) =>
          `${c.cell} ${(100 * c.observedShare).toFixed(2)}% vs ${(100 * c.expectedShare).toFixed(2)}% expected`,
      )
      .join(', ');
    return {
      decision: 'keep-control',
      cell: null,
      reasons: [
        `Sample ratio mismatch: chi-square ${fmt(srm.chiSquare)} on ${srm.degreesOfFreedom} df, p=${fmtP(srm.pValue)} < ${srm.threshold} (${shares}).`,
        'Assignment or logging is broken, so no metric can be trusted: fix the cause and restart the experiment with a new seed.',
      ],
      cells: [],
    };
  }

  const minSample = Math.min(
    ...input.comparisons.map((c) => Math.min(c.nControl, c.nTreatment)),
    Number.POSITIVE_INFINITY,
  );
  const sampleReached = minSample >= rule.plannedSamplePerCell;
  const runtimeReached = input.runtimeDays >= rule.minRuntimeDays;
  const sampleNote = `the smallest cell has ${minSample} of the ${rule.plannedSamplePerCell} planned units (${(
    (100 * minSample) / rule.plannedSamplePerCell
  ).toFixed(1)}%)`;
  const runtimeNote = `${fmt(input.runtimeDays)} of the minimum ${rule.minRuntimeDays} days of runtime`;

  if (rule.mode === 'fixed-horizon' && !sampleReached) {
    return {
      decision: 'continue',
      cell: null,
      reasons: [
        `Fixed-horizon test: results are read once every cell reaches its planned sample; ${sampleNote}. Reading earlier and stopping on significance inflates false positives.`,
        ...(runtimeReached ? [] : [`Runtime so far: ${runtimeNote}.`]),
      ],
      cells: [],
    };
  }

  const cells = assessCells(input);
  const cellLines = cells.map((c) => describeCell(c, input));
  const secondary = secondaryReasons(input);

  if (cells.every((c) => c.harmful)) {
    return {
      decision: 'keep-control',
      cell: null,
      reasons: [
        cells.length === 1
          ? 'The treatment is harmful: a guardrail is breached or the primary metric is significantly worse.'
          : 'Every treatment cell is harmful: each breaches a guardrail or is significantly worse on a primary metric.',
        ...cellLines,
        ...secondary,
      ],
      cells,
    };
  }

  if (!runtimeReached) {
    return {
      decision: 'continue',
      cell: null,
      reasons: [
        `No cell ships before the minimum runtime (whole weekly cycles): ${runtimeNote}.`,
        ...cellLines,
        ...secondary,
      ],
      cells,
    };
  }

  const winners = cells.filter((c) => c.eligible);
  if (winners.length > 0) {
    const first = input.comparisons.find((c) => c.role === 'primary') as MetricComparison;
    const score = (cell: CellAssessment): number => {
      const c = input.comparisons.find((x) => x.cell === cell.cell && x.metric === first.metric);
      if (c === undefined) return Number.NEGATIVE_INFINITY;
      const g = signOf(c.better) * c.difference;
      return c.controlValue !== 0 ? g / Math.abs(c.controlValue) : g;
    };
    const best = winners.reduce((a, b) => (score(b) > score(a) ? b : a));
    const why =
      rule.kind === 'superiority'
        ? `Cell ${best.cell} beats the control on its primary metric and passes every guardrail.`
        : `Cell ${best.cell} is non-inferior to the control on its primary metric and passes every guardrail.`;
    const others =
      winners.length > 1
        ? [`${winners.length} cells qualify; ${best.cell} has the largest improvement on ${first.metric}.`]
        : [];
    return {
      decision: 'ship',
      cell: best.cell,
      reasons: [why, ...others, ...cellLines, ...secondary],
      cells,
    };
  }

  if (sampleReached) {
    const why =
      rule.kind === 'superiority'
        ? 'The planned sample is reached and no cell both beats the control on its primary metric and passes every guardrail.'
        : 'The planned sample is reached and no cell is shown non-inferior on its primary metric with every guardrail passing.';
    return { decision: 'keep-control', cell: null, reasons: [why, ...cellLines, ...secondary], cells };
  }

  return {
    decision: 'continue',
    cell: null,
    reasons: [`No cell qualifies yet and ${sampleNote}.`, ...cellLines, ...secondary],
    cells,
  };
}
