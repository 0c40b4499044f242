import { describe, expect, it } from 'vitest';
import { definitionFromYaml } from './definition-text.ts';
import { evaluateExperiment } from './evaluate.ts';
import { formatResult } from './format.ts';
import type { CohortStatistics } from './queries.ts';
import { toResultRows } from './store.ts';

const DAY_MS = 86_400_000;
const NOW = Date.UTC(2026, 10, 26);

const def = definitionFromYaml(
  `
key: store-test
hypothesis: Rows written for a result carry the evidence and the decision on every row.
owner: test@playloop.dev
unit: session
status: running
namespace: { name: store, range: { start: 0, end: 10000 } }
seed: store-test-1
hashVersion: 1
trafficShare: 1
cells:
  - { name: control, control: true, weight: 5000, config: { abr: { startLevel: -1 } } }
  - { name: b, weight: 5000, config: { abr: { startLevel: 0 } } }
metrics:
  primary: { metric: vsf, better: lower, mde: { absolute: 0.01 } }
analysis: { alpha: 0.05, power: 0.8, decisionRule: superiority, minRuntimeDays: 7 }
`,
  'store-test.yaml',
);

function cohort(cell: string, n: number, k: number): CohortStatistics {
  return {
    cell,
    cohortDay: Math.floor((NOW - 10 * DAY_MS) / DAY_MS),
    units: n,
    sessionViews: n,
    unitsInSeveralCells: 0,
    firstAllocationMs: NOW - 10 * DAY_MS,
    metrics: [{ n, sum: k, sumSquares: k }],
    cuped: {
      withCovariate: { n: 0, sumY: 0, sumY2: 0, sumX: 0, sumX2: 0, sumXY: 0 },
      withoutCovariate: { n, sumY: k, sumY2: k },
    },
  };
}

const result = evaluateExperiment(
  def,
  {
    experimentKey: 'store-test',
    unit: 'session',
    metrics: ['vsf'],
    cohorts: [cohort('control', 500, 10), cohort('b', 510, 4)],
    playDelay: new Map([
      ['control', { values: [900, 1000], counts: [2, 3] }],
      ['b', { values: [800], counts: [1] }],
    ]),
  },
  { now: NOW, mode: 'sequential', quantiles: [0.5] },
);

describe('toResultRows', () => {
  const rows = toResultRows(result);

  it('writes one row per cell, metric and method, plus the sample-ratio rows', () => {
    expect(rows.map((r) => `${r.metric}/${r.method}/${r.cell}`)).toEqual([
      'vsf/two-proportion-z/control',
      'vsf/two-proportion-z/b',
      'startupMs:p50/quantile/control',
      'startupMs:p50/quantile/b',
      'units/chi-square/control',
      'units/chi-square/b',
    ]);
  });

  it('carries the decision and reasons on every row and stores unbounded values as NULL', () => {
    for (const r of rows) {
      expect(r.decision).toBe(result.decision.kind);
      expect(r.reasons).toEqual(result.decision.reasons);
      expect(r.analysis_id).toBe(`store-test@${new Date(NOW).toISOString()}`);
    }
    const quantile = rows.find((r) => r.metric === 'startupMs:p50' && r.cell === 'b');
    expect(quantile?.estimate).toBe(800);
    // One play delay: too few for the Maritz-Jarrett difference, so no comparison.
    expect(quantile?.p_value).toBeNull();
    expect(quantile?.status).toMatch(/^unavailable: /);
    const srm = rows.find((r) => r.metric === 'units' && r.cell === 'b');
    expect(srm?.n).toBe(510);
    expect(srm?.control_estimate).toBe(0.5);
    expect(srm?.status).toBe('ok');
    for (const r of rows) {
      for (const v of [r.ci_lower, r.ci_upper, r.sequential_ci_lower, r.sequential_ci_upper]) {
        expect(v === null || Number.isFinite(v)).toBe(true);
      }
    }
  });
});

describe('formatResult', () => {
  it('prints the decision, the cells and one line per metric row', () => {
    const text = formatResult(result).join('\n');
    expect(text).toMatch(/^Experiment store-test \(unit session, superiority, sequential/);
    expect(text).toMatch(/Decision: (SHIP b|KEEP CONTROL \(control\)|CONTINUE)/);
    expect(text).toMatch(/Sample ratio: chi-square/);
    expect(text.split('\n').filter((l) => l.startsWith('vsf ')).length).toBe(2);
  });
});
