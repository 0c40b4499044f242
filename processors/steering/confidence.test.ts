/**
 * Reference values: statsmodels 0.15.0, computed offline with
 *   proportion_confint(count, nobs, alpha=2*a, method='wilson')
 *   confint_proportions_2indep(c1, n1, c2, n2, method='newcomb', compare='diff', alpha=2*a)
 * (a one-sided bound at a is one end of the two-sided interval at 2a).
 */
import { describe, expect, it } from 'vitest';
import { newcombeDifferenceBounds, wilsonBounds } from './confidence.ts';

describe('wilsonBounds', () => {
  it.each([
    [5, 50, 0.037497950925426765, 0.24063537386516357],
    [0, 20, 0.0, 0.21296698070808884],
    [20, 20, 0.7870330192919113, 1.0],
    // A non-integer "count": a rate times sessions, as the rebuffer ratio is passed.
    [3.7, 40, 0.029877523089249236, 0.2522488799505035],
  ])('count %d of %d at one-sided 0.01 matches statsmodels wilson', (count, n, lower, upper) => {
    const b = wilsonBounds({ rate: count / n, n }, 0.01);
    expect(b?.lower).toBeCloseTo(lower, 10);
    expect(b?.upper).toBeCloseTo(upper, 10);
  });

  it('matches statsmodels at another level (12 of 100, two-sided 0.05 = one-sided 0.025)', () => {
    const b = wilsonBounds({ rate: 0.12, n: 100 }, 0.025);
    expect(b?.lower).toBeCloseTo(0.06999406437019488, 10);
    expect(b?.upper).toBeCloseTo(0.19812099426711421, 10);
  });

  it('has no bounds without units', () => {
    expect(wilsonBounds({ rate: 0, n: 0 }, 0.01)).toBeNull();
  });
});

describe('newcombeDifferenceBounds', () => {
  it.each([
    [12, 100, 5, 400, 0.01, 0.047105923825217756, 0.20350561867499045],
    [0, 30, 2, 200, 0.01, -0.04358573657540171, 0.14302421962631276],
    [6.0, 50, 1.5, 150, 0.01, 0.02735455809552427, 0.2554669510833304],
    [30, 60, 10, 500, 0.025, 0.3562559680090245, 0.6029869419683973],
    [1, 25, 0, 25, 0.01, -0.14126249167944882, 0.23819512116946526],
  ])('%d/%d - %d/%d at one-sided %d matches statsmodels newcomb', (c1, n1, c2, n2, alpha, lower, upper) => {
    const b = newcombeDifferenceBounds({ rate: c1 / n1, n: n1 }, { rate: c2 / n2, n: n2 }, alpha);
    expect(b?.lower).toBeCloseTo(lower, 10);
    expect(b?.upper).toBeCloseTo(upper, 10);
  });

  it('has no bounds when a side has no units', () => {
    expect(newcombeDifferenceBounds({ rate: 0.1, n: 10 }, { rate: 0, n: 0 }, 0.01)).toBeNull();
  });
});
