import { describe, expect, it } from 'vitest';
import { sampleRatioMismatch } from './srm.ts';
import { expectClose } from './test-helpers.ts';

// Reference values: reference/generate.py, scipy 1.17.1 stats.chisquare(observed, f_exp=expected).

describe('sampleRatioMismatch', () => {
  it('accepts a 50/50 split within noise', () => {
    // stats.chisquare([50123, 49877], f_exp=[50000.0, 50000.0]) -> (0.60516, 0.43661599744396395)
    const r = sampleRatioMismatch([
      { cell: 'control', observed: 50123, weight: 5000 },
      { cell: 'treatment', observed: 49877, weight: 5000 },
    ]);
    expectClose(r.chiSquare, 0.60516, 1e-13);
    expectClose(r.pValue, 0.43661599744396395, 1e-12);
    expect(r.degreesOfFreedom).toBe(1);
    expect(r.mismatch).toBe(false);
  });

  it('flags a 50.9/49.1 split of 100,000 units', () => {
    // stats.chisquare([50900, 49100], f_exp=[50000.0, 50000.0]) -> (32.4, 1.2548647497615138e-08)
    const r = sampleRatioMismatch([
      { cell: 'control', observed: 50900, weight: 0.5 },
      { cell: 'treatment', observed: 49100, weight: 0.5 },
    ]);
    expectClose(r.chiSquare, 32.4, 1e-13);
    expectClose(r.pValue, 1.2548647497615138e-8, 1e-11);
    expect(r.mismatch).toBe(true);
  });

  it('uses the configured weights of three cells', () => {
    // stats.chisquare([34512, 32801, 33187], f_exp=[34170.0, 33165.0, 33165.0]) -> (7.432651359956014, 0.024323174986387787)
    const r = sampleRatioMismatch([
      { cell: 'control', observed: 34512, weight: 3400 },
      { cell: 'b', observed: 32801, weight: 3300 },
      { cell: 'c', observed: 33187, weight: 3300 },
    ]);
    expectClose(r.chiSquare, 7.432651359956014, 1e-13);
    expectClose(r.pValue, 0.024323174986387787, 1e-12);
    expect(r.mismatch).toBe(false); // 0.024 is not below 0.001
    expect(r.cells.map((c) => c.expected)).toEqual([34170, 33165, 33165]);
  });

  it('refuses duplicate cells and non-positive weights', () => {
    expect(() =>
      sampleRatioMismatch([
        { cell: 'a', observed: 1, weight: 1 },
        { cell: 'a', observed: 1, weight: 1 },
      ]),
    ).toThrow(/twice/);
    expect(() =>
      sampleRatioMismatch([
        { cell: 'a', observed: 1, weight: 0 },
        { cell: 'b', observed: 1, weight: 1 },
      ]),
    ).toThrow(/weight/);
  });
});
