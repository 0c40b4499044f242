/**
 * The experiment analysis API. `analyzeExperiment(ch, definition, options)` computes and
 * stores one result with one decision; `readLatestDecision` is what the feedback loop reads.
 */
export { type AnalyzeOptions, analyzeExperiment } from './analyze.ts';
export {
  type EvaluateOptions,
  evaluateExperiment,
  PLAY_DELAY_QUANTILES,
  SEQUENTIAL_SPENDING,
  sequentialLookKey,
} from './evaluate.ts';
export { formatResult } from './format.ts';
export { METRIC_MEASURES, type MetricTest, metricTest } from './metrics.ts';
export { fetchSufficientStatistics, type SufficientStatistics } from './queries.ts';
export type {
  AnalysisMethod,
  CellOverview,
  ComparisonResult,
  CupedSummary,
  ExperimentDecision,
  ExperimentResult,
  MetricResult,
  PAdjustment,
  PowerPlan,
  SequentialLook,
  SequentialMethod,
} from './result.ts';
export {
  type ResultRow,
  readLatestDecision,
  readLatestResultRows,
  readSequentialLooks,
  type StoredDecision,
  sequentialLooksOf,
  storeResult,
  toResultRows,
} from './store.ts';
