/**
 * The experiment analysis API. `analyzeExperiment(ch, definition, options)` computes and
 * stores one result with one decision; `readLatestDecision` is what the feedback loop reads.
 */
export { type AnalyzeOptions, analyzeExperiment } from './analyze.ts';
export { type EvaluateOptions, evaluateExperiment, PLAY_DELAY_QUANTILES } from './evaluate.ts';
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
} from './result.ts';
export {
  type ResultRow,
  readLatestDecision,
  readLatestResultRows,
  type StoredDecision,
  storeResult,
  toResultRows,
} from './store.ts';
