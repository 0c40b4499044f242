/**
 * CUPED variance reduction from aggregates: Deng, Xu, Kohavi & Walker, "Improving the
 * Sensitivity of Online Controlled Experiments by Utilizing Pre-Experiment Data", WSDM 2013.
 *
 * With a pre-experiment covariate X (e.g. the viewer's play delay in the weeks before) and
 * the metric Y, the adjusted metric is Y_cv = Y - θ(X - E[X]) with θ = cov(X, Y) / var(X).
 * As the paper recommends (§3.3), one θ is used for every cell and it is estimated on the
 * data of all cells pooled: X is measured before assignment, so it is independent of the
 * treatment and the same θ keeps the difference of adjusted means unbiased. E[X] is
 * estimated by the pooled mean of X; it cancels in any difference between cells.
 *
 * Everything is computed from per-cell sums (n, Σy, Σx, Σy², Σx², Σxy), which ClickHouse
 * returns in one GROUP BY. The per-cell adjusted variance is the sample variance of Y_cv,
 * s_Y² - 2θ s_XY + θ² s_X²; feed the adjusted summaries to welchTTest. (The uncertainty of
 * θ itself is ignored, as in the paper: it is O(1/n) and negligible at experiment sizes.)
 *
 * Numerical note: Σy² - (Σy)²/n cancels when the mean is large against the spread. Sums of
 * float64 values in the thousands (milliseconds) over millions of rows keep ~8 significant
 * digits of the variance, ample for a test; centre the values in SQL if the metric's mean is
 * more than ~1e4 standard deviations from zero.
 */
import { invalid, requireCount, requireFinite } from './errors.ts';
import type { MeanSummary } from './types.ts';

/** Per-cell sums of the metric y and the pre-experiment covariate x over units. */
export interface CovariateSums {
  readonly n: number;
  readonly sumY: number;
  readonly sumX: number;
  readonly sumY2: number;
  readonly sumX2: number;
  readonly sumXY: number;
}

export interface CupedCell {
  /** The metric without adjustment. */
  readonly unadjusted: MeanSummary;
  /** Y - θ(X - pooled mean of X): pass to welchTTest. */
  readonly adjusted: MeanSummary;
  /** 1 - var(Y_cv) / var(Y) in this cell (0 when var(Y) = 0). */
  readonly varianceReduction: number;
}

export interface CupedResult {
  readonly theta: number;
  /** The pooled mean of the covariate, the stand-in for E[X]. */
  readonly covariateMean: number;
  /** The pooled correlation of X and Y; the expected variance reduction is its square. */
  readonly correlation: number;
  /** In the order of the input cells. */
  readonly cells: readonly CupedCell[];
}

interface Moments {
  readonly n: number;
  readonly meanY: number;
  readonly meanX: number;
  readonly varY: number;
  readonly varX: number;
  readonly covXY: number;
}

function moments(s: CovariateSums): Moments {
  const { n } = s;
  const meanY = s.sumY / n;
  const meanX = s.sumX / n;
  return {
    n,
    meanY,
    meanX,
    varY: Math.max(0, (s.sumY2 - s.sumY * meanY) / (n - 1)),
    varX: Math.max(0, (s.sumX2 - s.sumX * meanX) / (n - 1)),
    covXY: (s.sumXY - s.sumX * meanY) / (n - 1),
  };
}

function validate(i: number, s: CovariateSums): void {
  requireCount(`cells[${i}].n`, s.n, 2);
  for (const key of ['sumY', 'sumX', 'sumY2', 'sumX2', 'sumXY'] as const)
    requireFinite(`cells[${i}].${key}`, s[key]);
  if (s.sumY2 < 0 || s.sumX2 < 0) throw invalid(`cells[${i}] has a negative sum of squares`, { cell: i });
}

/** θ = cov(X, Y) / var(X) over all cells pooled (0 when X is constant). */
export function cupedTheta(cells: readonly CovariateSums[]): number {
  return pooled(cells).theta;
}

function pooled(cells: readonly CovariateSums[]): {
  theta: number;
  covariateMean: number;
  correlation: number;
} {
  if (cells.length < 1) throw invalid('CUPED needs at least one cell');
  for (const [i, s] of cells.entries()) validate(i, s);
  const total: CovariateSums = cells.reduce(
    (acc, s) => ({
      n: acc.n + s.n,
      sumY: acc.sumY + s.sumY,
      sumX: acc.sumX + s.sumX,
      sumY2: acc.sumY2 + s.sumY2,
      sumX2: acc.sumX2 + s.sumX2,
      sumXY: acc.sumXY + s.sumXY,
    }),
    { n: 0, sumY: 0, sumX: 0, sumY2: 0, sumX2: 0, sumXY: 0 },
  );
  const m = moments(total);
  const theta = m.varX > 0 ? m.covXY / m.varX : 0;
  const correlation = m.varX > 0 && m.varY > 0 ? m.covXY / Math.sqrt(m.varX * m.varY) : 0;
  return { theta, covariateMean: m.meanX, correlation };
}

export function cupedAdjust(cells: readonly CovariateSums[]): CupedResult {
  const { theta, covariateMean, correlation } = pooled(cells);
  return {
    theta,
    covariateMean,
    correlation,
    cells: cells.map((s) => {
      const m = moments(s);
      const adjustedVariance = Math.max(0, m.varY - 2 * theta * m.covXY + theta * theta * m.varX);
      return {
        unadjusted: { n: m.n, mean: m.meanY, variance: m.varY },
        adjusted: { n: m.n, mean: m.meanY - theta * (m.meanX - covariateMean), variance: adjustedVariance },
        varianceReduction: m.varY > 0 ? 1 - adjustedVariance / m.varY : 0,
      };
    }),
  };
}
