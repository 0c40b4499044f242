/**
 * The DecisionSource backed by the experiment analysis (experiments/analysis): the latest
 * stored analysis of each experiment in ClickHouse `experiment_results`. The one file that
 * knows the analysis' storage API; everything else in ABR tuning sees ExperimentDecision.
 */
import { readLatestDecision } from '../../experiments/analysis/store.ts';
import { type ClickHouse, clickhouseFailure, queryRows } from '../../infra/clickhouse.ts';
import type { DecisionSource, ExperimentDecision } from './decisions.ts';

const DAY_MS = 86_400_000;

interface EvidenceRow {
  metric: string;
  role: string;
  runtime_days: number;
  difference: number | null;
  difference_ci_lower: number | null;
  difference_ci_upper: number | null;
  lift: number | null;
  p_adjusted: number | null;
}

/** The deciding primary and guardrail rows of one cell in one stored analysis. */
async function evidenceRows(
  ch: ClickHouse,
  key: string,
  analysisId: string,
  cell: string,
): Promise<EvidenceRow[]> {
  try {
    return await queryRows<EvidenceRow>(
      ch.client,
      `SELECT metric, role, runtime_days, difference, difference_ci_lower, difference_ci_upper, lift, p_adjusted
       FROM ${ch.database}.experiment_results FINAL
       WHERE experiment_key = {key:String} AND analysis_id = {analysisId:String} AND cell = {cell:String}
         AND decides = 1 AND role IN ('primary', 'guardrail')
       ORDER BY role DESC, metric`,
      { key, analysisId, cell },
    );
  } catch (cause) {
    throw clickhouseFailure(`reading the evidence of ${key}'s decision`, cause);
  }
}

/**
 * Decisions of the experiments `keys()` names (the loaded definitions). Evidence metrics are
 * the shipped cell's deciding rows: `<role>.<metric>.difference`, `.differenceLower`,
 * `.differenceUpper`, `.lift`, `.pAdjusted`, and `runtimeDays`.
 */
export function analysisDecisions(ch: ClickHouse, keys: () => Promise<readonly string[]>): DecisionSource {
  return {
    latest: async () => {
      const decisions: ExperimentDecision[] = [];
      for (const key of await keys()) {
        const stored = await readLatestDecision(ch, key);
        if (stored === undefined) continue;
        const metrics: Record<string, number> = {};
        let runtimeDays: number | null = null;
        if (stored.decision === 'ship' && stored.cell !== null) {
          for (const row of await evidenceRows(ch, key, stored.analysisId, stored.cell)) {
            runtimeDays = Number(row.runtime_days);
            const put = (name: string, value: number | null): void => {
              if (value !== null && Number.isFinite(value))
                metrics[`${row.role}.${row.metric}.${name}`] = value;
            };
            put('difference', row.difference);
            put('differenceLower', row.difference_ci_lower);
            put('differenceUpper', row.difference_ci_upper);
            put('lift', row.lift);
            put('pAdjusted', row.p_adjusted);
          }
          if (runtimeDays !== null && Number.isFinite(runtimeDays)) metrics['runtimeDays'] = runtimeDays;
        }
        decisions.push({
          experimentKey: key,
          decision: stored.decision,
          cell: stored.cell,
          reasons: stored.reasons,
          decidedAt: stored.analyzedAt,
          windowStart: runtimeDays === null ? null : Math.round(stored.analyzedAt - runtimeDays * DAY_MS),
          windowEnd: stored.analyzedAt,
          metrics,
        });
      }
      return decisions;
    },
  };
}
