import { describe, expect, it } from 'vitest';
import { chiSquareCdf, chiSquareSf } from './chi-square.ts';
import { expectClose } from './test-helpers.ts';

// Reference values: scipy 1.17.1 stats.chi2, produced by reference/generate.py.

describe('chi-square distribution', () => {
  it.each([
    // stats.chi2.cdf(x, k), stats.chi2.sf(x, k)
    [3.84, 1, 0.9499564787512949, 0.05004352124870519],
    [0.5, 2, 0.22119921692859512, 0.7788007830714049],
    [12.0, 3, 0.9926168394946402, 0.007383160505359769],
    [200.0, 3, 1.0, 4.218541107192018e-43],
    [7.5, 4.5, 0.8535121515105326, 0.14648784848946736],
    [0.001, 1, 0.02522712063003961, 0.9747728793699604],
  ])('χ²(%d; k=%d) matches scipy stats.chi2 cdf and sf', (x, k, cdf, sf) => {
    expectClose(chiSquareCdf(x, k), cdf, 1e-12);
    expectClose(chiSquareSf(x, k), sf, 1e-12);
  });

  it('is 0 / 1 at and below zero', () => {
    expect(chiSquareCdf(0, 3)).toBe(0);
    expect(chiSquareSf(-1, 3)).toBe(1);
  });
});
