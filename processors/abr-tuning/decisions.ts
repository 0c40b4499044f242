/**
 * What ABR tuning needs from the experiment analysis: the latest decision of each
 * experiment. A small interface of its own, so tuning can be tested with fixed decisions and
 * wired to whatever produces them (the analysis in experiments/analysis, which stores one
 * decision per experiment in ClickHouse `experiment_results`).
 */
import type { Decision } from '../../experiments/stats/index.ts';

export type DecisionKind = 'ship' | 'keep-control' | 'continue';

export interface ExperimentDecision {
  readonly experimentKey: string;
  readonly decision: DecisionKind;
  /** The cell to ship; null unless decision is 'ship'. */
  readonly cell: string | null;
  /** In words, most important first. */
  readonly reasons: readonly string[];
  /** When the analysis decided, epoch ms. */
  readonly decidedAt: number;
  /** The data the decision rests on, epoch ms; null when unknown. */
  readonly windowStart: number | null;
  readonly windowEnd: number | null;
  /** Metric values behind the decision (lift, bounds, p-values), for the config's evidence. */
  readonly metrics: Readonly<Record<string, number>>;
}

export interface DecisionSource {
  /** The latest decision of every experiment that has one. */
  latest(): Promise<readonly ExperimentDecision[]>;
}

/** A source that always answers the given decisions (tests, manual promotions). */
export function fixedDecisions(decisions: readonly ExperimentDecision[]): DecisionSource & {
  set(next: readonly ExperimentDecision[]): void;
} {
  let current = decisions;
  return {
    latest: async () => current,
    set: (next) => {
      current = next;
    },
  };
}

function put(metrics: Record<string, number>, key: string, value: number | null): void {
  if (value !== null && Number.isFinite(value)) metrics[key] = value;
}

/**
 * The analysis' decision (experiments/stats decide()) as an ExperimentDecision: the shipped
 * cell's primary and guardrail assessments become the evidence metrics, named
 * `primary.<metric>.difference`, `primary.<metric>.relativeDifference`,
 * `primary.<metric>.adjustedPValue`, `guardrail.<metric>.harmfulBound`, `guardrail.<metric>.margin`.
 */
export function fromAnalysisDecision(
  experimentKey: string,
  decision: Decision,
  at: { readonly decidedAt: number; readonly windowStart: number | null; readonly windowEnd: number | null },
): ExperimentDecision {
  const metrics: Record<string, number> = {};
  const assessed = decision.cells.find((c) => c.cell === decision.cell);
  for (const p of assessed?.primary ?? []) {
    put(metrics, `primary.${p.metric}.difference`, p.difference);
    put(metrics, `primary.${p.metric}.relativeDifference`, p.relativeDifference);
    put(metrics, `primary.${p.metric}.adjustedPValue`, p.adjustedPValue);
  }
  for (const g of assessed?.guardrails ?? []) {
    put(metrics, `guardrail.${g.metric}.harmfulBound`, g.harmfulBound);
    put(metrics, `guardrail.${g.metric}.margin`, g.margin);
  }
  return {
    experimentKey,
    decision: decision.decision,
    cell: decision.cell,
    reasons: decision.reasons,
    decidedAt: at.decidedAt,
    windowStart: at.windowStart,
    windowEnd: at.windowEnd,
    metrics,
  };
}
