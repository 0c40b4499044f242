import { describe, expect, it } from 'vitest';
import { twoProportionZTest } from './proportions.ts';
import { expectClose } from './test-helpers.ts';

// Reference values: reference/generate.py with statsmodels 0.15.0.

describe('twoProportionZTest', () => {
  it.each([
    // [xt, nt, xc, nc, z, p, ciLow, ciHigh, lift, liftSe, liftLow, liftHigh]
    // proportions_ztest([xt, xc], [nt, nc]); confint_proportions_2indep(xt, nt, xc, nc, method='wald', compare='diff');
    // lift: numpy pt/pc - 1 with se sqrt(pt qt/nt/pc² + pt² pc qc/nc/pc⁴), ± stats.norm.ppf(0.975) se
    [
      361, 19950, 412, 20000, -1.817213497160116, 0.06918442908251726, -0.00520595818937762,
      0.0001964343798538091, -0.12159038372630604, 0.06271341618402776, -0.2445064207944718,
      0.0013256533418597172,
    ],
    [
      45, 150, 30, 140, 1.665758334982834, 0.0957615578558535, -0.014275076536722775, 0.1857036479652942,
      0.40000000000000013, 0.28604583937233247, -0.16063954309730089, 0.9606395430973012,
    ],
  ])('%d/%d vs %d/%d matches statsmodels', (xt, nt, xc, nc, z, p, lo, hi, lift, liftSe, liftLo, liftHi) => {
    const r = twoProportionZTest({ n: nc, successes: xc }, { n: nt, successes: xt });
    expectClose(r.z, z, 1e-12);
    expectClose(r.pValue, p, 1e-11);
    expectClose(r.ci.lower, lo, 1e-11);
    expectClose(r.ci.upper, hi, 1e-11);
    expectClose(r.relativeLift?.estimate ?? Number.NaN, lift, 1e-12);
    expectClose(r.relativeLift?.standardError ?? Number.NaN, liftSe, 1e-12);
    expectClose(r.relativeLift?.ci.lower ?? Number.NaN, liftLo, 1e-12);
    expectClose(r.relativeLift?.ci.upper ?? Number.NaN, liftHi, 1e-12);
  });

  it('reports no evidence when both cells have no successes', () => {
    const r = twoProportionZTest({ n: 100, successes: 0 }, { n: 120, successes: 0 });
    expect(r.z).toBe(0);
    expect(r.pValue).toBe(1);
    expect(r.relativeLift).toBeNull();
  });

  it('refuses more successes than units', () => {
    expect(() => twoProportionZTest({ n: 10, successes: 11 }, { n: 10, successes: 1 })).toThrow(/exceeds/);
  });
});
