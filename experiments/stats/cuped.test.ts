import { describe, expect, it } from 'vitest';
import { type CovariateSums, cupedAdjust, cupedTheta } from './cuped.ts';
import { welchTTest } from './means.ts';
import { expectClose } from './test-helpers.ts';

// Reference values: reference/generate.py with numpy 2.4.6 on the raw units below
// (numpy default_rng(7): x ~ N(100, 20), y = 0.8x + N(20, 8) in control, N(24, 8) in treatment).
const xc = [
  100.02, 105.97, 94.52, 82.19, 90.91, 80.17, 101.2, 126.8, 90.16, 87.59, 109.8, 107.14, 102.11, 81.39, 99.41,
  113.91, 73.12, 90.85, 61.98, 74.21, 63.17, 95.3, 74.65, 105.43, 103.14, 96.26, 49.66, 89.23, 99.03, 102.27,
];
const yc = [
  87.77, 100.95, 87.79, 79.28, 101.22, 77.68, 100.7, 128.52, 87.46, 89.18, 108.72, 106.22, 91.89, 85.72,
  110.4, 98.75, 85.37, 93.63, 64.45, 95.37, 76.63, 86.65, 80.32, 108.96, 101.0, 102.47, 59.2, 96.72, 110.73,
  96.41,
];
const xt = [
  104.06, 90.73, 102.55, 76.26, 88.41, 96.08, 117.98, 122.9, 73.53, 84.11, 112.94, 60.15, 90.74, 98.05,
  125.14, 113.79, 93.46, 92.63, 95.0, 130.47, 91.44, 93.93, 107.05, 97.58, 96.05, 77.72, 99.77, 91.13, 123.32,
  113.06,
];
const yt = [
  107.05, 101.93, 103.32, 93.43, 94.68, 105.53, 108.06, 125.09, 69.32, 75.01, 111.92, 64.92, 97.9, 120.4,
  117.46, 110.04, 100.41, 102.05, 98.59, 126.73, 102.77, 103.3, 101.37, 101.43, 101.12, 77.74, 105.89, 90.04,
  130.43, 115.99,
];

/** What ClickHouse would return: count(), sum(y), sum(x), sum(y*y), sum(x*x), sum(x*y). */
function sums(x: readonly number[], y: readonly number[]): CovariateSums {
  let sumY = 0;
  let sumX = 0;
  let sumY2 = 0;
  let sumX2 = 0;
  let sumXY = 0;
  x.forEach((xi, i) => {
    const yi = y[i] as number;
    sumY += yi;
    sumX += xi;
    sumY2 += yi * yi;
    sumX2 += xi * xi;
    sumXY += xi * yi;
  });
  return { n: x.length, sumY, sumX, sumY2, sumX2, sumXY };
}

describe('CUPED from aggregates', () => {
  const cells = [sums(xc, yc), sums(xt, yt)];
  const r = cupedAdjust(cells);

  it('estimates θ on the pooled cells like numpy', () => {
    // np.cov(x_all, y_all, ddof=1)[0, 1] / np.var(x_all, ddof=1) -> 0.8178724176067617
    expectClose(r.theta, 0.8178724176067617, 1e-12);
    expectClose(cupedTheta(cells), 0.8178724176067617, 1e-12);
    // np.corrcoef(x_all, y_all)[0, 1] -> 0.88330303393961
    expectClose(r.correlation, 0.88330303393961, 1e-12);
  });

  it('gives the mean and variance of y - θ(x - mean(x_all)) per cell', () => {
    // control: (96.17995544543258, 53.278139451458195, var(y) 207.65617057471266)
    const [c, t] = r.cells;
    expectClose(c?.adjusted.mean ?? Number.NaN, 96.17995544543258, 1e-12);
    expectClose(c?.adjusted.variance ?? Number.NaN, 53.278139451458195, 1e-10);
    expectClose(c?.unadjusted.variance ?? Number.NaN, 207.65617057471266, 1e-11);
    // treatment: (99.28937788790077, 49.53706258252679, var(y) 242.93493057471267)
    expectClose(t?.adjusted.mean ?? Number.NaN, 99.28937788790077, 1e-12);
    expectClose(t?.adjusted.variance ?? Number.NaN, 49.53706258252679, 1e-10);
    expectClose(t?.unadjusted.variance ?? Number.NaN, 242.93493057471267, 1e-11);
    expectClose(c?.varianceReduction ?? Number.NaN, 1 - 53.278139451458195 / 207.65617057471266, 1e-10);
  });

  it('feeds Welch: the adjusted test matches scipy on the adjusted raw values', () => {
    // stats.ttest_ind(y_cv treatment, y_cv control, equal_var=False) -> (1.6796225222984658, 0.09841746489536903)
    const [c, t] = r.cells;
    if (c === undefined || t === undefined) throw new Error('two cells expected');
    const w = welchTTest(c.adjusted, t.adjusted);
    expectClose(w.t, 1.6796225222984658, 1e-10);
    expectClose(w.pValue, 0.09841746489536903, 1e-9);
  });

  it('leaves the metric alone when the covariate is constant', () => {
    const flat = cupedAdjust([sums([1, 1, 1], [1, 2, 3]), sums([1, 1, 1], [2, 3, 4])]);
    expect(flat.theta).toBe(0);
    expect(flat.cells[0]?.adjusted).toEqual(flat.cells[0]?.unadjusted);
  });

  it('refuses cells with fewer than two units', () => {
    expect(() => cupedAdjust([{ n: 1, sumY: 1, sumX: 1, sumY2: 1, sumX2: 1, sumXY: 1 }])).toThrow(
      /n must be/,
    );
  });
});
