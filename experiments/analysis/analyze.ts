/**
 * `analyzeExperiment`: the one entry point of the analysis, used by the CLI
 * (`playloop experiments analyze <key>`), the dashboards and the feedback loop.
 * ClickHouse reduces the experiment to sufficient statistics (queries.ts); the statistics
 * run in Node on those few numbers (evaluate.ts, with experiments/stats); the result is
 * stored in `experiment_results` (store.ts) and returned.
 */
import type { ClickHouse } from '../../infra/clickhouse.ts';
import { definitionDigest } from '../definitions/digest.ts';
import type { ExperimentDefinition } from '../definitions/schema.ts';
import type { TestMode } from '../stats/index.ts';
import { evaluateExperiment, PLAY_DELAY_QUANTILES } from './evaluate.ts';
import { fetchSufficientStatistics } from './queries.ts';
import type { ExperimentResult } from './result.ts';
import { readSequentialLooks, storeResult } from './store.ts';

export interface AnalyzeOptions {
  /** Analysis time, epoch ms (runtime, and the run's key in experiment_results). Default: now. */
  readonly now?: number;
  /**
   * `sequential` (default): decisions read the group-sequential test's repeated p-values and
   * repeated confidence intervals, one look per recorded run at information fraction
   * n / planned n (Lan-DeMets spending: exact alpha over the looks actually taken); without a
   * sample-size plan, the mSPRT's always-valid ones over daily cohorts. Either way the
   * analysis may run at any time and as often as the feedback loop likes.
   * `fixed-horizon`: nothing is decided before every cell reaches the planned sample.
   */
  readonly mode?: TestMode;
  /** Play-delay quantiles reported, default p50, p90, p99. */
  readonly quantiles?: readonly number[];
  /** Write the result to experiment_results (default true). */
  readonly store?: boolean;
}

export async function analyzeExperiment(
  ch: ClickHouse,
  definition: ExperimentDefinition,
  options: AnalyzeOptions = {},
): Promise<ExperimentResult> {
  const now = options.now ?? Date.now();
  const [stats, previousLooks] = await Promise.all([
    fetchSufficientStatistics(ch, definition),
    // The group-sequential test's earlier looks: one per recorded run of this definition.
    readSequentialLooks(ch, definition.key, definitionDigest(definition), now),
  ]);
  const result = evaluateExperiment(definition, stats, {
    now,
    mode: options.mode ?? 'sequential',
    quantiles: options.quantiles ?? PLAY_DELAY_QUANTILES,
    previousLooks,
  });
  if (options.store ?? true) await storeResult(ch, result);
  return result;
}
