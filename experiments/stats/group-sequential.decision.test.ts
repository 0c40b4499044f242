/**
 * decide() fed with group-sequential evidence (withGroupSequential): the repeated p-value and
 * the running intersection of repeated confidence intervals take the place of the mSPRT's
 * always-valid p-value and confidence sequence.
 */
import { describe, expect, it } from 'vitest';
import { fromWelch, type MetricComparison } from './comparison.ts';
import { type DecisionRule, decide } from './decision.ts';
import {
  type GroupSequentialConfig,
  type GroupSequentialState,
  groupSequentialMaxInformation,
  groupSequentialRepeatedPValue,
  groupSequentialSequence,
  withGroupSequential,
} from './group-sequential.ts';
import { welchTTest } from './means.ts';
import { sampleRatioMismatch } from './srm.ts';
import type { MeanSummary } from './types.ts';

const PLANNED = 40_000;
const rule: DecisionRule = {
  alpha: 0.05,
  kind: 'superiority',
  mode: 'sequential',
  plannedSamplePerCell: PLANNED,
  minRuntimeDays: 14,
};

// Play delay (ms, lower is better), sd 812 ms: 30 ms faster after 10,000 units per cell
// (z = -2.6, below the first O'Brien-Fleming boundary 3.92), 45 ms faster after 20,000
// (z = -5.5, far beyond the second, 2.79).
const delay: readonly (readonly [MeanSummary, MeanSummary])[] = [
  [
    { n: 10_000, mean: 1234.5, variance: 812 ** 2 },
    { n: 10_000, mean: 1204.5, variance: 812 ** 2 },
  ],
  [
    { n: 20_000, mean: 1235.0, variance: 812 ** 2 },
    { n: 20_000, mean: 1190.0, variance: 812 ** 2 },
  ],
];
// Rebuffer ratio guardrail (margin 5% of 0.01): +0.00005 with sd 0.01.
const rebuffer: readonly (readonly [MeanSummary, MeanSummary])[] = [
  [
    { n: 10_000, mean: 0.01, variance: 0.01 ** 2 },
    { n: 10_000, mean: 0.01005, variance: 0.01 ** 2 },
  ],
  [
    { n: 20_000, mean: 0.01, variance: 0.01 ** 2 },
    { n: 20_000, mean: 0.01005, variance: 0.01 ** 2 },
  ],
];

function monitored(
  metric: string,
  role: 'primary' | 'guardrail',
  looks: readonly (readonly [MeanSummary, MeanSummary])[],
  upTo: number,
): { comparison: MetricComparison; state: GroupSequentialState } {
  const [control, treatment] = looks[0] as readonly [MeanSummary, MeanSummary];
  const config: GroupSequentialConfig = {
    alpha: rule.alpha,
    spending: 'obrien-fleming',
    maxInformation: groupSequentialMaxInformation(
      { control: control.variance, treatment: treatment.variance },
      PLANNED,
      PLANNED,
    ),
  };
  const results = groupSequentialSequence(
    config,
    looks.slice(0, upTo).map(([c, t]) => ({ control: c, treatment: t })),
  );
  const state = results[results.length - 1] as GroupSequentialState;
  const [c, t] = looks[upTo - 1] as readonly [MeanSummary, MeanSummary];
  const meta =
    role === 'guardrail'
      ? { metric, role, better: 'lower' as const, cell: 'b', margin: { relative: 0.05 } }
      : { metric, role, better: 'lower' as const, cell: 'b' };
  return { comparison: withGroupSequential(fromWelch(meta, welchTTest(c, t)), state), state };
}

function decideAt(
  look: number,
  over: Partial<DecisionRule> = {},
  primaryMargin?: MetricComparison['margin'],
) {
  const primary = monitored('startupMs', 'primary', delay, look);
  const primaryComparison =
    primaryMargin === undefined ? primary.comparison : { ...primary.comparison, margin: primaryMargin };
  const guardrail = monitored('rebufferRatio', 'guardrail', rebuffer, look);
  const decision = decide({
    controlCell: 'control',
    treatmentCells: ['b'],
    runtimeDays: 14,
    srm: sampleRatioMismatch([
      { cell: 'control', observed: delay[look - 1]?.[0].n ?? 0, weight: 1 },
      { cell: 'b', observed: delay[look - 1]?.[1].n ?? 0, weight: 1 },
    ]),
    comparisons: [primaryComparison, guardrail.comparison],
    rule: { ...rule, ...over },
  });
  return { decision, primary, guardrail };
}

describe('decide: sequential (group-sequential alpha spending)', () => {
  it('continues while the boundary is not crossed and the guardrail interval is still wide', () => {
    const { decision, primary } = decideAt(1);
    expect(primary.state.rejected).toBe(false);
    expect(primary.comparison.sequential?.kind).toBe('group-sequential');
    expect(primary.comparison.sequential?.pValue ?? 0).toBeGreaterThan(rule.alpha);
    expect(decision.decision).toBe('continue');
    expect(decision.cells[0]?.guardrails[0]?.status).toBe('inconclusive');
  });

  it('ships once the boundary is crossed and the guardrail passes on its repeated confidence interval', () => {
    const { decision, primary, guardrail } = decideAt(2);
    expect(primary.state.rejected).toBe(true);
    expect(guardrail.state.rejected).toBe(false);
    const p = groupSequentialRepeatedPValue(primary.state);
    expect(p).toBeLessThanOrEqual(rule.alpha);
    expect(decision.cells[0]?.primary[0]?.adjustedPValue).toBe(p);
    expect(decision.cells[0]?.guardrails[0]?.status).toBe('pass');
    expect(decision.decision).toBe('ship');
    expect(decision.cell).toBe('b');
  });

  it('under non-inferiority reads the repeated confidence interval against the margin, and says so', () => {
    const { decision, primary } = decideAt(2, { kind: 'non-inferiority' }, { relative: 0.02 });
    // The whole interval is an improvement, so well within a 2% (24.7 ms) margin.
    expect(primary.state.ci.upper).toBeLessThan(0);
    expect(decision.cells[0]?.primary[0]?.status).toBe('non-inferior');
    expect(decision.cells[0]?.primary[0]?.adjustedPValue).toBeNull();
    expect(decision.decision).toBe('ship');
    expect(decision.reasons.join(' ')).toMatch(/repeated confidence interval -?\d/);
  });
});
