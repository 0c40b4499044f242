/**
 * Value types shared by the statistics modules. Everything is plain, readonly data so that
 * results serialise straight to JSON for the analysis command and the dashboards.
 *
 * Conventions used everywhere:
 * - a comparison is always `treatment - control` (and `treatment / control - 1` for lift);
 * - `variance` is the sample variance with the n - 1 denominator;
 * - `alpha` is the two-sided significance level, a confidence interval has level 1 - alpha.
 */

/** A closed interval. Infinite bounds mean "unbounded" (JSON.stringify writes them as null). */
export interface Interval {
  readonly lower: number;
  readonly upper: number;
}

/** Summary statistics of one cell for a mean metric: what a ClickHouse aggregate returns. */
export interface MeanSummary {
  readonly n: number;
  readonly mean: number;
  /** Sample variance (n - 1 denominator), e.g. ClickHouse varSamp. */
  readonly variance: number;
}

/** One cell of a binary metric (exit before video start, video start failure...). */
export interface ProportionSummary {
  readonly n: number;
  readonly successes: number;
}

/** Relative lift `treatment / control - 1` with a delta-method standard error and interval. */
export interface RelativeLift {
  readonly estimate: number;
  readonly standardError: number;
  readonly ci: Interval;
}

/**
 * An effect size: relative (0.05 = 5% of the control's mean) or absolute, in the metric's
 * unit. Exactly one must be set; the same shape as experiments/definitions' `mde`/`margin`.
 */
export interface EffectSize {
  readonly relative?: number | undefined;
  readonly absolute?: number | undefined;
}
