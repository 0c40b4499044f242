/**
 * Analysis results in ClickHouse `experiment_results` (infra/migrations/0301_experiment_results.sql):
 * one row per cell x metric x method per run, every row carrying the run's decision and
 * reasons; plus one `units` row per cell with the sample-ratio evidence. Dashboards read
 * the rows; the feedback loop reads the latest decision (readLatestDecision).
 */
import type { ClickHouse } from '../../infra/clickhouse.ts';
import { clickhouseFailure, queryRows } from '../../infra/clickhouse.ts';
import type { DecisionKind } from '../stats/index.ts';
import { sequentialLookKey } from './evaluate.ts';
import type { ExperimentResult, SequentialLook } from './result.ts';

export interface ResultRow {
  experiment_key: string;
  analyzed_at: number;
  analysis_id: string;
  definition_digest: string;
  unit_type: string;
  decision_rule: string;
  test_mode: string;
  alpha: number;
  runtime_days: number;
  cell: string;
  is_control: number;
  metric: string;
  role: string;
  method: string;
  decides: number;
  better: string;
  n: number;
  estimate: number | null;
  ci_lower: number | null;
  ci_upper: number | null;
  control_estimate: number | null;
  difference: number | null;
  difference_ci_lower: number | null;
  difference_ci_upper: number | null;
  lift: number | null;
  lift_ci_lower: number | null;
  lift_ci_upper: number | null;
  p_value: number | null;
  p_adjusted: number | null;
  p_adjustment: string;
  p_sequential: number | null;
  sequential_ci_lower: number | null;
  sequential_ci_upper: number | null;
  /** group-sequential | msprt ('' for rows without a sequential test): 0303 migration. */
  sequential_method?: string;
  /** This run's group-sequential look of the comparison (null when the run was not a look). */
  look_units?: number | null;
  look_difference?: number | null;
  look_variance?: number | null;
  status: string;
  planned_n: number | null;
  srm_p_value: number | null;
  decision: string;
  decision_cell: string;
  reasons: string[];
}

/** Infinite bounds ("unbounded") and NaN are stored as NULL. */
const finite = (x: number | null | undefined): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : x;

export function toResultRows(r: ExperimentResult): ResultRow[] {
  const common = {
    experiment_key: r.experimentKey,
    analyzed_at: r.analyzedAt,
    analysis_id: r.analysisId,
    definition_digest: r.definitionDigest,
    unit_type: r.unit,
    decision_rule: r.decisionRule,
    test_mode: r.mode,
    alpha: r.alpha,
    runtime_days: r.runtimeDays,
    planned_n: r.power === null ? null : r.power.plannedSamplePerCell,
    srm_p_value: finite(r.srm?.pValue),
    decision: r.decision.kind,
    decision_cell: r.decision.cell ?? '',
    reasons: [...r.decision.reasons],
  };
  const metricRows = r.metrics.map(
    (m): ResultRow => ({
      ...common,
      cell: m.cell,
      is_control: m.control ? 1 : 0,
      metric: m.metric,
      role: m.role,
      method: m.method,
      decides: m.decides ? 1 : 0,
      better: m.better,
      n: m.n,
      estimate: finite(m.estimate),
      ci_lower: finite(m.ci?.lower),
      ci_upper: finite(m.ci?.upper),
      control_estimate: finite(m.comparison?.controlEstimate),
      difference: finite(m.comparison?.difference),
      difference_ci_lower: finite(m.comparison?.ci.lower),
      difference_ci_upper: finite(m.comparison?.ci.upper),
      lift: finite(m.comparison?.lift?.estimate),
      lift_ci_lower: finite(m.comparison?.lift?.ci.lower),
      lift_ci_upper: finite(m.comparison?.lift?.ci.upper),
      p_value: finite(m.comparison?.pValue),
      p_adjusted: finite(m.comparison?.pAdjusted),
      p_adjustment: m.comparison?.pAdjustment ?? 'none',
      p_sequential: finite(m.comparison?.sequential?.pValue),
      sequential_ci_lower: finite(m.comparison?.sequential?.ci.lower),
      sequential_ci_upper: finite(m.comparison?.sequential?.ci.upper),
      sequential_method: m.comparison?.sequential?.method ?? '',
      look_units: finite(m.comparison?.sequential?.look?.units),
      look_difference: finite(m.comparison?.sequential?.look?.difference),
      look_variance: finite(m.comparison?.sequential?.look?.variance),
      status: m.status ?? (m.note === null ? '' : `unavailable: ${m.note}`),
    }),
  );
  const srm = r.srm;
  const srmRows = r.cells.map((c): ResultRow => {
    const s = srm?.cells.find((x) => x.cell === c.cell);
    return {
      ...common,
      cell: c.cell,
      is_control: c.control ? 1 : 0,
      metric: 'units',
      role: 'srm',
      method: 'chi-square',
      decides: 1,
      better: '',
      n: c.units,
      estimate: finite(s?.observedShare),
      ci_lower: null,
      ci_upper: null,
      control_estimate: finite(s?.expectedShare),
      difference: s === undefined ? null : s.observedShare - s.expectedShare,
      difference_ci_lower: null,
      difference_ci_upper: null,
      lift: null,
      lift_ci_lower: null,
      lift_ci_upper: null,
      p_value: finite(srm?.pValue),
      p_adjusted: null,
      p_adjustment: 'none',
      p_sequential: null,
      sequential_ci_lower: null,
      sequential_ci_upper: null,
      sequential_method: '',
      look_units: null,
      look_difference: null,
      look_variance: null,
      status: srm === null ? 'no units' : srm.mismatch ? 'mismatch' : 'ok',
    };
  });
  return [...metricRows, ...srmRows];
}

export async function storeResult(ch: ClickHouse, result: ExperimentResult): Promise<number> {
  const rows = toResultRows(result);
  try {
    await ch.client.insert({
      table: `${ch.database}.experiment_results`,
      values: rows,
      format: 'JSONEachRow',
    });
  } catch (cause) {
    throw clickhouseFailure(`storing the analysis of ${result.experimentKey}`, cause);
  }
  return rows.length;
}

/**
 * The group-sequential looks a result records, by comparison (sequentialLookKey): what the
 * next run reads back as its previous looks. Pure, so a simulation can chain runs without
 * ClickHouse exactly as the store does.
 */
export function sequentialLooksOf(r: ExperimentResult): Map<string, SequentialLook> {
  const out = new Map<string, SequentialLook>();
  for (const m of r.metrics) {
    const look = m.comparison?.sequential?.look;
    if (look != null) out.set(sequentialLookKey(m.metric, m.method, m.cell), look);
  }
  return out;
}

/**
 * The group-sequential looks of the runs recorded before `before` (epoch ms) under the same
 * definition digest, oldest first: a changed definition is a new design and starts afresh.
 */
export async function readSequentialLooks(
  ch: ClickHouse,
  experimentKey: string,
  digest: string,
  before: number,
): Promise<Map<string, SequentialLook[]>> {
  let rows: Array<{
    metric: string;
    method: string;
    cell: string;
    analyzed_ms: number;
    look_units: number;
    look_difference: number;
    look_variance: number;
  }>;
  try {
    rows = await queryRows(
      ch.client,
      `SELECT metric, method, cell, toUnixTimestamp64Milli(analyzed_at) AS analyzed_ms,
              look_units, look_difference, look_variance
       FROM ${ch.database}.experiment_results FINAL
       WHERE experiment_key = {key:String} AND definition_digest = {digest:String}
         AND analyzed_at < fromUnixTimestamp64Milli({before:Int64})
         AND sequential_method = 'group-sequential' AND look_units IS NOT NULL
         AND look_difference IS NOT NULL AND look_variance IS NOT NULL
       ORDER BY analyzed_at`,
      { key: experimentKey, digest, before },
    );
  } catch (cause) {
    throw clickhouseFailure(`reading the sequential looks of ${experimentKey}`, cause);
  }
  const out = new Map<string, SequentialLook[]>();
  for (const r of rows) {
    const key = sequentialLookKey(r.metric, r.method, r.cell);
    const list = out.get(key) ?? [];
    list.push({
      analyzedAt: Number(r.analyzed_ms),
      units: Number(r.look_units),
      difference: Number(r.look_difference),
      variance: Number(r.look_variance),
    });
    out.set(key, list);
  }
  return out;
}

export interface StoredDecision {
  readonly experimentKey: string;
  readonly analysisId: string;
  /** Epoch ms. */
  readonly analyzedAt: number;
  readonly definitionDigest: string;
  readonly decision: DecisionKind;
  readonly cell: string | null;
  readonly reasons: readonly string[];
}

/** The decision of the latest stored analysis of an experiment; undefined when it was never analysed. */
export async function readLatestDecision(
  ch: ClickHouse,
  experimentKey: string,
): Promise<StoredDecision | undefined> {
  let rows: Array<{
    analysis_id: string;
    analyzed_ms: number;
    definition_digest: string;
    decision: DecisionKind;
    decision_cell: string;
    reasons: string[];
  }>;
  try {
    rows = await queryRows(
      ch.client,
      `SELECT analysis_id, toUnixTimestamp64Milli(analyzed_at) AS analyzed_ms, definition_digest, decision,
              decision_cell, reasons
       FROM ${ch.database}.experiment_results FINAL
       WHERE experiment_key = {key:String}
       ORDER BY analyzed_at DESC
       LIMIT 1`,
      { key: experimentKey },
    );
  } catch (cause) {
    throw clickhouseFailure(`reading the latest decision of ${experimentKey}`, cause);
  }
  const r = rows[0];
  if (r === undefined) return undefined;
  return {
    experimentKey,
    analysisId: r.analysis_id,
    analyzedAt: Number(r.analyzed_ms),
    definitionDigest: r.definition_digest,
    decision: r.decision,
    cell: r.decision_cell === '' ? null : r.decision_cell,
    reasons: r.reasons,
  };
}

/** Every row of the latest stored analysis of an experiment (for dashboards), in a stable order. */
export async function readLatestResultRows(ch: ClickHouse, experimentKey: string): Promise<ResultRow[]> {
  try {
    return await queryRows<ResultRow>(
      ch.client,
      `SELECT * EXCEPT analyzed_at, toUnixTimestamp64Milli(analyzed_at) AS analyzed_at
       FROM ${ch.database}.experiment_results FINAL
       WHERE experiment_key = {key:String}
         AND analyzed_at = (SELECT max(analyzed_at) FROM ${ch.database}.experiment_results WHERE experiment_key = {key:String})
       ORDER BY metric, method, cell`,
      { key: experimentKey },
    );
  } catch (cause) {
    throw clickhouseFailure(`reading the latest results of ${experimentKey}`, cause);
  }
}
