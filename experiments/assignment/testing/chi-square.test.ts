import { describe, expect, it } from 'vitest';
import { chiSquareGoodnessOfFit, chiSquareIndependence, chiSquareSurvival, lnGamma } from './chi-square.ts';

const close = (actual: number, expected: number, relative = 1e-9) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.abs(expected) * relative);

describe('chi-square p-values', () => {
  // Reference: scipy 1.17.1, stats.chi2.sf(x, df).
  it.each([
    [3.84, 1, 0.05004352124870519],
    [10, 3, 0.01856613546304325],
    [0.5, 2, 0.7788007830714049],
    [2, 2, 0.36787944117144245],
    [30, 2, 3.0590232050182594e-7],
    [100, 80, 0.064570368921133],
    [9999, 9999, 0.49811927192721916],
    [10300, 9999, 0.017334231854316547],
    [9700, 9999, 0.9834587016005223],
    [11000, 9999, 3.446374242124639e-12],
  ])('P(chi2 >= %d; df %d) = %d', (x, df, expected) => {
    close(chiSquareSurvival(x, df), expected);
  });

  it('ln Gamma matches factorials', () => {
    expect(Math.abs(lnGamma(1))).toBeLessThan(1e-14);
    close(lnGamma(11), Math.log(3628800), 1e-13);
    close(lnGamma(0.5), 0.5 * Math.log(Math.PI), 1e-13);
  });

  it('goodness of fit matches scipy.stats.chisquare', () => {
    // scipy 1.17.1: stats.chisquare([48, 52, 60, 40]) -> statistic 4.16, p 0.2446972805810382
    const r = chiSquareGoodnessOfFit([48, 52, 60, 40], [50, 50, 50, 50]);
    close(r.statistic, 4.16, 1e-12);
    expect(r.df).toBe(3);
    close(r.pValue, 0.2446972805810382);
  });

  it('independence matches scipy.stats.chi2_contingency without continuity correction', () => {
    // scipy 1.17.1: chi2_contingency([[10,20,30],[20,20,10]], correction=False)
    //   -> statistic 12.52777777777778, p 0.0019038276076954943, dof 2
    const r = chiSquareIndependence([
      [10, 20, 30],
      [20, 20, 10],
    ]);
    close(r.statistic, 12.52777777777778, 1e-12);
    expect(r.df).toBe(2);
    close(r.pValue, 0.0019038276076954943);
  });
});
