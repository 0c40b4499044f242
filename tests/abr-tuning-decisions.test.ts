/**
 * ABR tuning's DecisionSource over the analysis' table (experiment_results, real ClickHouse):
 * the latest analysis of each experiment becomes an ExperimentDecision with the shipped
 * cell's deciding rows as evidence.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ResultRow } from '../experiments/analysis/store.ts';
import { type ClickHouse, openAndMigrate } from '../infra/clickhouse.ts';
import { analysisDecisions } from '../processors/abr-tuning/decisions-analysis.ts';
import { testConfig } from './support/stack.ts';

const config = testConfig('abrdec');
const T = Date.UTC(2026, 10, 20, 12, 0, 0);
let ch: ClickHouse | undefined;

afterAll(async () => {
  await ch?.close();
});

function row(over: Partial<ResultRow>): ResultRow {
  return {
    experiment_key: 'abr-bandwidth-factor',
    analyzed_at: T,
    analysis_id: `abr-bandwidth-factor@${new Date(T).toISOString()}`,
    definition_digest: 'd1',
    unit_type: 'viewer',
    decision_rule: 'superiority',
    test_mode: 'sequential',
    alpha: 0.05,
    runtime_days: 14,
    cell: 'headroom-0-8',
    is_control: 0,
    metric: 'rebufferRatio',
    role: 'primary',
    method: 'welch',
    decides: 1,
    better: 'lower',
    n: 5_000,
    estimate: 0.008,
    ci_lower: 0.007,
    ci_upper: 0.009,
    control_estimate: 0.01,
    difference: -0.002,
    difference_ci_lower: -0.003,
    difference_ci_upper: -0.001,
    lift: -0.2,
    lift_ci_lower: -0.3,
    lift_ci_upper: -0.1,
    p_value: 0.001,
    p_adjusted: 0.002,
    p_adjustment: 'holm-sequential',
    p_sequential: 0.002,
    sequential_ci_lower: -0.003,
    sequential_ci_upper: -0.001,
    status: 'better',
    planned_n: 4_000,
    srm_p_value: 0.6,
    decision: 'ship',
    decision_cell: 'headroom-0-8',
    reasons: ['Cell headroom-0-8: primary rebufferRatio -0.002 (-20.00%) better.'],
    ...over,
  };
}

describe('analysisDecisions', () => {
  it('reads the latest analysis of each experiment, with the shipped cell as evidence', async () => {
    ch = (await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir })).ch;
    const older = T - 86_400_000;
    await ch.client.insert({
      table: `${ch.database}.experiment_results`,
      format: 'JSONEachRow',
      values: [
        row({ analyzed_at: older, decision: 'continue', decision_cell: '', runtime_days: 13 }),
        row({}),
        row({
          metric: 'avgBitrateKbps',
          role: 'guardrail',
          better: 'higher',
          difference: -40,
          lift: -0.01,
          p_adjusted: null,
          status: 'pass',
        }),
        // Not the deciding method, and the control's own row: neither is evidence.
        row({ method: 'cuped-welch', decides: 0, difference: -5 }),
        row({ cell: 'control', is_control: 1, difference: null, lift: null }),
        row({
          experiment_key: 'steering-health-weighted',
          decision: 'keep-control',
          decision_cell: '',
          reasons: ['no winner'],
        }),
      ],
    });
    const source = analysisDecisions(ch, async () => [
      'abr-bandwidth-factor',
      'steering-health-weighted',
      'never-analysed',
    ]);
    const decisions = await source.latest();
    expect(decisions).toEqual([
      {
        experimentKey: 'abr-bandwidth-factor',
        decision: 'ship',
        cell: 'headroom-0-8',
        reasons: ['Cell headroom-0-8: primary rebufferRatio -0.002 (-20.00%) better.'],
        decidedAt: T,
        windowStart: T - 14 * 86_400_000,
        windowEnd: T,
        metrics: {
          'primary.rebufferRatio.difference': -0.002,
          'primary.rebufferRatio.differenceLower': -0.003,
          'primary.rebufferRatio.differenceUpper': -0.001,
          'primary.rebufferRatio.lift': -0.2,
          'primary.rebufferRatio.pAdjusted': 0.002,
          'guardrail.avgBitrateKbps.difference': -40,
          'guardrail.avgBitrateKbps.differenceLower': -0.003,
          'guardrail.avgBitrateKbps.differenceUpper': -0.001,
          'guardrail.avgBitrateKbps.lift': -0.01,
          runtimeDays: 14,
        },
      },
      {
        experimentKey: 'steering-health-weighted',
        decision: 'keep-control',
        cell: null,
        reasons: ['no winner'],
        decidedAt: T,
        windowStart: null,
        windowEnd: T,
        metrics: {},
      },
    ]);
  });
});
