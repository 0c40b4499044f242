import { describe, expect, it } from 'vitest';
import { benjaminiHochbergAdjust, holmAdjust } from './multiple-comparisons.ts';
import { expectClose } from './test-helpers.ts';

// Reference values: statsmodels 0.15.0 multipletests(p, method=...)[1] (reference/generate.py).
const p = [0.01, 0.04, 0.03, 0.005, 0.2, 0.04];

describe('multiple comparisons', () => {
  it("Holm matches multipletests(p, method='holm')", () => {
    const expected = [0.05, 0.12, 0.12, 0.03, 0.2, 0.12];
    for (const [i, v] of holmAdjust(p).entries()) expectClose(v, expected[i] as number, 1e-14);
  });

  it("Benjamini-Hochberg matches multipletests(p, method='fdr_bh')", () => {
    const expected = [0.030000000000000002, 0.048, 0.048, 0.030000000000000002, 0.2, 0.048];
    for (const [i, v] of benjaminiHochbergAdjust(p).entries()) expectClose(v, expected[i] as number, 1e-14);
  });

  it('caps at 1, keeps order, and handles the empty family', () => {
    // multipletests([0.6, 0.4], method='holm')[1] -> [0.8, 0.8]; multipletests([0.9, 0.95], method='fdr_bh')[1] -> [0.95, 0.95]
    expect(holmAdjust([0.6, 0.4])).toEqual([0.8, 0.8]);
    expect(benjaminiHochbergAdjust([0.9, 0.95])).toEqual([0.95, 0.95]);
    expect(holmAdjust([])).toEqual([]);
    expect(() => holmAdjust([1.2])).toThrow(/p-value/);
  });
});
