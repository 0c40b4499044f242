import { describe, expect, it } from 'vitest';
import type { Decision } from '../../experiments/stats/index.ts';
import { fixedDecisions, fromAnalysisDecision } from './decisions.ts';

describe('fromAnalysisDecision', () => {
  it("takes the shipped cell's primary and guardrail assessments as evidence", () => {
    const decision: Decision = {
      decision: 'ship',
      cell: 'b',
      reasons: ['Cell b wins.'],
      cells: [
        {
          cell: 'b',
          minSample: 1_000,
          primary: [
            {
              metric: 'rebufferRatio',
              status: 'better',
              difference: -0.002,
              relativeDifference: -0.2,
              adjustedPValue: 0.01,
            },
          ],
          guardrails: [{ metric: 'vsf', status: 'pass', margin: 0.002, harmfulBound: 0.0005 }],
          eligible: true,
          harmful: false,
        },
        { cell: 'c', minSample: 1_000, primary: [], guardrails: [], eligible: false, harmful: false },
      ],
    };
    expect(fromAnalysisDecision('exp', decision, { decidedAt: 5, windowStart: 1, windowEnd: 4 })).toEqual({
      experimentKey: 'exp',
      decision: 'ship',
      cell: 'b',
      reasons: ['Cell b wins.'],
      decidedAt: 5,
      windowStart: 1,
      windowEnd: 4,
      metrics: {
        'primary.rebufferRatio.difference': -0.002,
        'primary.rebufferRatio.relativeDifference': -0.2,
        'primary.rebufferRatio.adjustedPValue': 0.01,
        'guardrail.vsf.harmfulBound': 0.0005,
        'guardrail.vsf.margin': 0.002,
      },
    });
  });

  it('serves fixed decisions and lets a test replace them', async () => {
    const source = fixedDecisions([]);
    expect(await source.latest()).toEqual([]);
    source.set([
      fromAnalysisDecision(
        'x',
        { decision: 'continue', cell: null, reasons: [], cells: [] },
        { decidedAt: 1, windowStart: null, windowEnd: null },
      ),
    ]);
    expect((await source.latest()).map((d) => d.decision)).toEqual(['continue']);
  });
});
