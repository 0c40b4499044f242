import { describe, expect, it } from 'vitest';
import { normalCdf, normalPdf, normalQuantile, normalSf, normalTwoSidedP } from './normal.ts';
import { expectClose } from './test-helpers.ts';

// Reference values: scipy 1.17.1 stats.norm, produced by reference/generate.py.

describe('normalCdf (Cody)', () => {
  it.each([
    // stats.norm.cdf(x)
    [-40.0, 0],
    [-38.0, 0],
    [-10.0, 7.61985302416047e-24],
    [-5.5, 1.898956246588768e-8],
    [-1.96, 0.024997895148220435],
    [-0.5, 0.3085375387259869],
    [0.0, 0.5],
    [0.3, 0.6179114221889526],
    [0.67448975, 0.7499999999376898],
    [1.0, 0.8413447460685429],
    [2.5, 0.9937903346742238],
    [5.0, 0.9999997133484281],
    [8.0, 0.9999999999999993],
  ])('Φ(%d) matches scipy stats.norm.cdf', (x, expected) => {
    expectClose(normalCdf(x), expected, 1e-14, 1e-300);
  });

  it.each([
    // stats.norm.sf(x): the upper tail keeps its relative accuracy
    [5.0, 2.866515718791933e-7],
    [10.0, 7.61985302416047e-24],
    [30.0, 4.906713927147908e-198],
  ])('1 - Φ(%d) matches scipy stats.norm.sf', (x, expected) => {
    expectClose(normalSf(x), expected, 1e-13);
  });

  it('gives two-sided p-values and the density', () => {
    // 2 * stats.norm.sf(1.96) = 0.04999579029644087
    expectClose(normalTwoSidedP(-1.96), 0.04999579029644087, 1e-14);
    // stats.norm.pdf(1.0) = 0.24197072451914337
    expectClose(normalPdf(1), 0.24197072451914337, 1e-15);
  });
});

describe('normalQuantile (Wichura AS241)', () => {
  it.each([
    // stats.norm.ppf(p)
    [1e-300, -37.0470962993612],
    [1e-20, -9.262340089798409],
    [1e-10, -6.361340902404056],
    [0.001, -3.090232306167813],
    [0.025, -1.9599639845400545],
    [0.05, -1.6448536269514729],
    [0.075, -1.4395314709384563],
    [0.3, -0.5244005127080409],
    [0.8, 0.8416212335729143],
    [0.925, 1.4395314709384563],
    [0.975, 1.959963984540054],
    [0.999, 3.090232306167813],
    [1 - 1e-12, 7.0344869100478356],
  ])('Φ⁻¹(%d) matches scipy stats.norm.ppf', (p, expected) => {
    expectClose(normalQuantile(p), expected, 1e-14);
  });

  it('is 0 at one half and infinite at the ends', () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(() => normalQuantile(1.5)).toThrow(/0 <= p <= 1/);
  });
});
