import { describe, expect, it } from 'vitest';
import { fromProportions, fromWelch, type MetricComparison, withSequential } from './comparison.ts';
import { type DecisionInput, type DecisionRule, decide } from './decision.ts';
import { welchTTest } from './means.ts';
import { msprtSequence } from './msprt.ts';
import { twoProportionZTest } from './proportions.ts';
import { sampleRatioMismatch } from './srm.ts';
import { expectClose } from './test-helpers.ts';

const balanced = sampleRatioMismatch([
  { cell: 'control', observed: 50_000, weight: 1 },
  { cell: 'b', observed: 50_000, weight: 1 },
]);

const fixedRule: DecisionRule = {
  alpha: 0.05,
  kind: 'superiority',
  mode: 'fixed-horizon',
  plannedSamplePerCell: 40_000,
  minRuntimeDays: 14,
};

/** A comparison with a z statistic: p from the estimate and standard error (two-sided). */
function comparison(
  overrides: Partial<MetricComparison> & Pick<MetricComparison, 'metric' | 'role'>,
): MetricComparison {
  return {
    better: 'lower',
    cell: 'b',
    nControl: 50_000,
    nTreatment: 50_000,
    controlValue: 1000,
    difference: 0,
    standardError: 5,
    degreesOfFreedom: Number.POSITIVE_INFINITY,
    pValue: 1,
    ...overrides,
  };
}

// Play delay (ms, lower is better) fell by 30 ms with se 5: z = -6, p ≈ 2e-9 (stats.norm).
const startupWin = comparison({ metric: 'startupMs', role: 'primary', difference: -30, pValue: 1.97e-9 });
// Rebuffer ratio guardrail, margin 5% of 0.01 = 0.0005; a 0.00001 increase with se 0.0001 is safely within it.
const rebufferSafe = comparison({
  metric: 'rebufferRatio',
  role: 'guardrail',
  controlValue: 0.01,
  difference: 0.00001,
  standardError: 0.0001,
  pValue: 0.92,
  margin: { relative: 0.05 },
});

function input(over: Partial<DecisionInput>): DecisionInput {
  return {
    controlCell: 'control',
    treatmentCells: ['b'],
    runtimeDays: 14,
    srm: balanced,
    comparisons: [startupWin, rebufferSafe],
    rule: fixedRule,
    ...over,
  };
}

describe('decide: trust and timing', () => {
  it('keeps the control on a sample ratio mismatch, whatever the metrics say', () => {
    const srm = sampleRatioMismatch([
      { cell: 'control', observed: 50_900, weight: 1 },
      { cell: 'b', observed: 49_100, weight: 1 },
    ]);
    const d = decide(input({ srm }));
    expect(d.decision).toBe('keep-control');
    expect(d.reasons[0]).toMatch(/Sample ratio mismatch/);
    expect(d.cells).toEqual([]);
  });

  it('continues a fixed-horizon test until every cell has its planned sample', () => {
    const early = [startupWin, rebufferSafe].map((c) => ({ ...c, nControl: 20_000, nTreatment: 20_100 }));
    const d = decide(input({ comparisons: early }));
    expect(d.decision).toBe('continue');
    expect(d.reasons[0]).toMatch(/20000 of the 40000 planned units \(50\.0%\)/);
  });

  it('does not ship before the minimum runtime', () => {
    const d = decide(input({ runtimeDays: 9 }));
    expect(d.decision).toBe('continue');
    expect(d.reasons[0]).toMatch(/minimum runtime/);
    expect(d.cells[0]?.eligible).toBe(true);
  });
});

describe('decide: superiority', () => {
  it('ships a cell that wins its primary metric and passes every guardrail', () => {
    const d = decide(input({}));
    expect(d.decision).toBe('ship');
    expect(d.cell).toBe('b');
    expect(d.cells[0]?.primary[0]?.status).toBe('better');
    expect(d.cells[0]?.guardrails[0]?.status).toBe('pass');
    // Harmful-side bound one-sided at 5%: 0.00001 + stats.norm.ppf(0.95) * 0.0001, stats.norm.ppf(0.95) = 1.6448536269514722
    expectClose(
      d.cells[0]?.guardrails[0]?.harmfulBound ?? Number.NaN,
      0.00001 + 1.6448536269514722 * 0.0001,
      1e-12,
    );
    expectClose(d.cells[0]?.guardrails[0]?.margin ?? Number.NaN, 0.0005, 1e-15);
    expect(d.reasons.join('\n')).toMatch(/Cell b: primary startupMs -30 \(-3\.00%\) better/);
  });

  it('a guardrail breach blocks shipping', () => {
    const breach = { ...rebufferSafe, difference: 0.002, pValue: 1e-80 };
    const d = decide(input({ comparisons: [startupWin, breach] }));
    expect(d.decision).toBe('keep-control');
    expect(d.cells[0]?.guardrails[0]?.status).toBe('breach');
    expect(d.reasons[0]).toMatch(/harmful/);
  });

  it('an inconclusive guardrail blocks shipping too: safety was not shown', () => {
    const unsure = { ...rebufferSafe, difference: 0.0004, standardError: 0.0002, pValue: 0.05 };
    const d = decide(input({ comparisons: [startupWin, unsure] }));
    expect(d.cells[0]?.guardrails[0]?.status).toBe('inconclusive');
    expect(d.decision).toBe('keep-control');
    expect(d.reasons[0]).toMatch(/planned sample is reached/);
  });

  it('keeps the control when the primary is flat at the horizon', () => {
    const flat = { ...startupWin, difference: -3, pValue: 0.55 };
    const d = decide(input({ comparisons: [flat, rebufferSafe] }));
    expect(d.decision).toBe('keep-control');
    expect(d.cells[0]?.primary[0]?.status).toBe('inconclusive');
  });

  it('reads direction: a significant increase in play delay is a loss', () => {
    const worse = { ...startupWin, difference: 30 };
    const d = decide(input({ comparisons: [worse, rebufferSafe] }));
    expect(d.cells[0]?.primary[0]?.status).toBe('worse');
    expect(d.decision).toBe('keep-control');
  });

  it('Holm across treatment cells stops a marginal win (p = 0.03 and 0.04 -> 0.06 and 0.06)', () => {
    const srm3 = sampleRatioMismatch([
      { cell: 'control', observed: 50_000, weight: 1 },
      { cell: 'b', observed: 50_000, weight: 1 },
      { cell: 'c', observed: 50_000, weight: 1 },
    ]);
    const b = { ...startupWin, difference: -11, pValue: 0.03 };
    const c = { ...startupWin, cell: 'c', difference: -10, pValue: 0.04 };
    const d = decide(
      input({
        treatmentCells: ['b', 'c'],
        srm: srm3,
        comparisons: [b, c, rebufferSafe, { ...rebufferSafe, cell: 'c' }],
      }),
    );
    // statsmodels multipletests([0.03, 0.04], method='holm')[1] -> [0.06, 0.06]
    expectClose(d.cells[0]?.primary[0]?.adjustedPValue ?? Number.NaN, 0.06, 1e-12);
    expectClose(d.cells[1]?.primary[0]?.adjustedPValue ?? Number.NaN, 0.06, 1e-12);
    expect(d.decision).toBe('keep-control');
  });

  it('ships the safe winner when the bigger winner breaches a guardrail', () => {
    const srm3 = sampleRatioMismatch([
      { cell: 'control', observed: 50_000, weight: 1 },
      { cell: 'b', observed: 50_000, weight: 1 },
      { cell: 'c', observed: 50_000, weight: 1 },
    ]);
    const c = { ...startupWin, cell: 'c', difference: -60 };
    const cBreach = { ...rebufferSafe, cell: 'c', difference: 0.003, pValue: 1e-100 };
    const d = decide(
      input({ treatmentCells: ['b', 'c'], srm: srm3, comparisons: [startupWin, c, rebufferSafe, cBreach] }),
    );
    expect(d.decision).toBe('ship');
    expect(d.cell).toBe('b');
    expect(d.cells.find((x) => x.cell === 'c')?.harmful).toBe(true);
  });

  it('among several qualifying cells ships the largest improvement', () => {
    const srm3 = sampleRatioMismatch([
      { cell: 'control', observed: 50_000, weight: 1 },
      { cell: 'b', observed: 50_000, weight: 1 },
      { cell: 'c', observed: 50_000, weight: 1 },
    ]);
    const c = { ...startupWin, cell: 'c', difference: -45 };
    const d = decide(
      input({
        treatmentCells: ['b', 'c'],
        srm: srm3,
        comparisons: [startupWin, c, rebufferSafe, { ...rebufferSafe, cell: 'c' }],
      }),
    );
    expect(d.decision).toBe('ship');
    expect(d.cell).toBe('c');
    expect(d.reasons[1]).toMatch(/2 cells qualify/);
  });

  it('reports secondary metrics with Benjamini-Hochberg p-values without letting them decide', () => {
    const bitrate = comparison({
      metric: 'avgBitrateKbps',
      role: 'secondary',
      better: 'higher',
      controlValue: 3000,
      difference: -90,
      pValue: 0.001,
    });
    const d = decide(input({ comparisons: [startupWin, rebufferSafe, bitrate] }));
    expect(d.decision).toBe('ship');
    expect(d.reasons.at(-1)).toMatch(/avgBitrateKbps in b -90 \(-3\.00%\) worsened \(BH-adjusted p=0\.001\)/);
  });
});

describe('decide: non-inferiority', () => {
  const niRule: DecisionRule = { ...fixedRule, kind: 'non-inferiority' };
  const margin = { relative: 0.02 }; // 2% of 1000 ms = 20 ms

  it('ships when the primary is worse by less than its margin, shown one-sided at alpha', () => {
    // g = -(+5) = -5 ms, se 5: H0 g <= -20 has z = (−5 + 20) / 5 = 3, p = stats.norm.sf(3) = 0.0013498980316300933
    const primary = { ...startupWin, difference: 5, pValue: 0.32, margin };
    const d = decide(input({ rule: niRule, comparisons: [primary, rebufferSafe] }));
    expect(d.cells[0]?.primary[0]?.status).toBe('non-inferior');
    expectClose(d.cells[0]?.primary[0]?.adjustedPValue ?? Number.NaN, 0.0013498980316300933, 1e-12);
    expect(d.decision).toBe('ship');
  });

  it('keeps the control when non-inferiority is not shown at the horizon', () => {
    const primary = { ...startupWin, difference: 15, pValue: 0.003, margin };
    const d = decide(input({ rule: niRule, comparisons: [primary, rebufferSafe] }));
    expect(d.cells[0]?.primary[0]?.status).toBe('inconclusive');
    expect(d.decision).toBe('keep-control');
  });

  it('needs a margin on the primary', () => {
    expect(() => decide(input({ rule: niRule }))).toThrow(/margin under the non-inferiority rule/);
  });
});

describe('decide: sequential (mSPRT)', () => {
  const seqRule: DecisionRule = { ...fixedRule, mode: 'sequential' };
  const early = (c: MetricComparison, pValue: number, lower: number, upper: number): MetricComparison => ({
    ...c,
    nControl: 10_000,
    nTreatment: 10_000,
    sequential: { pValue, ci: { lower, upper } },
  });

  it('ships early on an always-valid win once the minimum runtime has passed', () => {
    const d = decide(
      input({
        rule: seqRule,
        comparisons: [early(startupWin, 0.001, -48, -12), early(rebufferSafe, 0.9, -0.0002, 0.0002)],
      }),
    );
    expect(d.decision).toBe('ship');
    expect(d.cell).toBe('b');
  });

  it('continues while the always-valid evidence is not there yet', () => {
    const d = decide(
      input({
        rule: seqRule,
        comparisons: [early(startupWin, 0.2, -40, 8), early(rebufferSafe, 0.9, -0.0002, 0.0002)],
      }),
    );
    expect(d.decision).toBe('continue');
    expect(d.reasons[0]).toMatch(/No cell qualifies yet/);
  });

  it('stops for harm before the minimum runtime', () => {
    const d = decide(
      input({
        rule: seqRule,
        runtimeDays: 2,
        comparisons: [early(startupWin, 0.2, -40, 8), early(rebufferSafe, 0.001, 0.0006, 0.0015)],
      }),
    );
    expect(d.decision).toBe('keep-control');
    expect(d.cells[0]?.guardrails[0]?.status).toBe('breach');
  });

  it('under non-inferiority reads the confidence sequence against the margin', () => {
    // Play delay +5 ms, confidence sequence [-8, 15] ms: the worst case (+15) is within the 20 ms margin.
    const primary = early({ ...startupWin, difference: 5, margin: { relative: 0.02 } }, 0.5, -8, 15);
    const d = decide(
      input({
        rule: { ...seqRule, kind: 'non-inferiority' },
        comparisons: [primary, early(rebufferSafe, 0.9, -0.0002, 0.0002)],
      }),
    );
    expect(d.cells[0]?.primary[0]?.status).toBe('non-inferior');
    expect(d.cells[0]?.primary[0]?.adjustedPValue).toBeNull();
    expect(d.decision).toBe('ship');
  });

  it('requires sequential results on deciding metrics', () => {
    expect(() => decide(input({ rule: seqRule }))).toThrow(/no sequential result/);
  });
});

describe('decide: fed by the library', () => {
  it('runs end to end from Welch, two-proportion and mSPRT results', () => {
    const controlDelay = { n: 48_213, mean: 1234.5, variance: 812.3 ** 2 };
    const treatmentDelay = { n: 48_001, mean: 1189.8, variance: 790.1 ** 2 };
    const welch = welchTTest(controlDelay, treatmentDelay);
    const ebvs = twoProportionZTest({ n: 48_213, successes: 964 }, { n: 48_001, successes: 950 });
    const [look] = msprtSequence({ alpha: 0.05, mixingVariance: 100 }, [
      { control: controlDelay, treatment: treatmentDelay },
    ]);
    if (look === undefined) throw new Error('one look expected');
    const primary = withSequential(
      fromWelch({ metric: 'startupMs', role: 'primary', better: 'lower', cell: 'b' }, welch),
      look,
    );
    const guardrail = fromProportions(
      { metric: 'ebvs', role: 'guardrail', better: 'lower', cell: 'b', margin: { absolute: 0.002 } },
      ebvs,
    );
    const d = decide({
      controlCell: 'control',
      treatmentCells: ['b'],
      runtimeDays: 14,
      srm: sampleRatioMismatch([
        { cell: 'control', observed: 48_213, weight: 5000 },
        { cell: 'b', observed: 48_001, weight: 5000 },
      ]),
      comparisons: [primary, guardrail],
      rule: { ...fixedRule, plannedSamplePerCell: 45_000 },
    });
    expect(d.decision).toBe('ship');
    expect(d.cell).toBe('b');
  });

  it('refuses comparisons for unknown cells and guardrails without a margin', () => {
    expect(() => decide(input({ comparisons: [{ ...startupWin, cell: 'zz' }] }))).toThrow(/unknown cell/);
    const noMargin: MetricComparison = { ...rebufferSafe, margin: undefined };
    expect(() => decide(input({ comparisons: [startupWin, noMargin] }))).toThrow(/needs a margin/);
  });
});
