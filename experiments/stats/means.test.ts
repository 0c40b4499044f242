import { describe, expect, it } from 'vitest';
import { PlayloopError } from '../../core/errors.ts';
import { summarize, welchTTest } from './means.ts';
import { expectClose } from './test-helpers.ts';

// Reference values: reference/generate.py with scipy 1.17.1.

const control = [12.1, 9.8, 11.4, 10.9, 13.2, 8.7, 10.1, 12.6, 11.8, 9.5];
const treatment = [13.4, 12.9, 10.8, 14.6, 12.2, 13.9, 11.7, 15.1, 12.5, 13.0, 14.2, 11.1];

describe('welchTTest from raw-data summaries', () => {
  const r = welchTTest(summarize(control), summarize(treatment));

  it('matches scipy stats.ttest_ind(treatment, control, equal_var=False)', () => {
    // -> statistic 3.198416722511021, pvalue 0.004797519605408795, df 18.719152131980696
    expectClose(r.t, 3.198416722511021, 1e-12);
    expectClose(r.pValue, 0.004797519605408795, 1e-10);
    expectClose(r.degreesOfFreedom, 18.719152131980696, 1e-12);
  });

  it('gives the interval of scipy ...confidence_interval(0.95) and (0.90)', () => {
    // -> (0.6691856557954421, 3.2108143442045534)
    expectClose(r.ci.lower, 0.6691856557954421, 1e-10);
    expectClose(r.ci.upper, 3.2108143442045534, 1e-10);
    // -> (0.8903882499813727, 2.989611750018622)
    const r90 = welchTTest(summarize(control), summarize(treatment), { alpha: 0.1 });
    expectClose(r90.ci.lower, 0.8903882499813727, 1e-10);
    expectClose(r90.ci.upper, 2.989611750018622, 1e-10);
  });

  it('gives the delta-method relative lift', () => {
    // numpy: mt/mc - 1, sqrt(vt/mc² + mt² vc/mc⁴), ± stats.norm.ppf(0.975) * se
    // -> (0.1762034514078108, 0.06091101832401253, 0.05682004923108695, 0.2955868535845346)
    const lift = r.relativeLift;
    expect(lift).not.toBeNull();
    expectClose(lift?.estimate ?? Number.NaN, 0.1762034514078108, 1e-12);
    expectClose(lift?.standardError ?? Number.NaN, 0.06091101832401253, 1e-12);
    expectClose(lift?.ci.lower ?? Number.NaN, 0.05682004923108695, 1e-12);
    expectClose(lift?.ci.upper ?? Number.NaN, 0.2955868535845346, 1e-12);
  });
});

describe('welchTTest on ClickHouse-sized aggregates', () => {
  const r = welchTTest(
    { n: 48213, mean: 1234.5, variance: 812.3 ** 2 },
    { n: 48001, mean: 1219.8, variance: 790.1 ** 2 },
  );

  it('matches scipy stats.ttest_ind_from_stats(1219.8, 790.1, 48001, 1234.5, 812.3, 48213, equal_var=False)', () => {
    // -> (-2.8453523855976717, 0.004437168858062337)
    expectClose(r.t, -2.8453523855976717, 1e-12);
    expectClose(r.pValue, 0.004437168858062337, 1e-9);
  });

  it('matches Welch df, se and the interval from stats.t.ppf(0.975, df)', () => {
    // -> (96159.80546238182, 5.166319670775078, -24.825927942497685, -4.574072057502407)
    expectClose(r.degreesOfFreedom, 96159.80546238182, 1e-12);
    expectClose(r.standardError, 5.166319670775078, 1e-13);
    expectClose(r.ci.lower, -24.825927942497685, 1e-10);
    expectClose(r.ci.upper, -4.574072057502407, 1e-10);
    // -> lift (-0.011907654921020638, 0.004159471820124162, -0.020060069883173264, -0.003755239958868015)
    expectClose(r.relativeLift?.estimate ?? Number.NaN, -0.011907654921020638, 1e-12);
    expectClose(r.relativeLift?.standardError ?? Number.NaN, 0.004159471820124162, 1e-12);
    expectClose(r.relativeLift?.ci.lower ?? Number.NaN, -0.020060069883173264, 1e-12);
    expectClose(r.relativeLift?.ci.upper ?? Number.NaN, -0.003755239958868015, 1e-12);
  });
});

describe('input handling', () => {
  it('has no relative lift when the control mean is 0', () => {
    const r = welchTTest({ n: 10, mean: 0, variance: 1 }, { n: 10, mean: 0.5, variance: 1 });
    expect(r.relativeLift).toBeNull();
  });

  it('refuses constant cells and tiny samples with a PlayloopError', () => {
    expect(() => welchTTest({ n: 5, mean: 1, variance: 0 }, { n: 5, mean: 2, variance: 0 })).toThrow(
      PlayloopError,
    );
    expect(() => welchTTest({ n: 1, mean: 1, variance: 1 }, { n: 5, mean: 2, variance: 1 })).toThrow(
      /control.n/,
    );
    expect(() => welchTTest({ n: 5, mean: 1, variance: -1 }, { n: 5, mean: 2, variance: 1 })).toThrow(
      /variance/,
    );
  });

  it('summarize matches numpy mean and var(ddof=1)', () => {
    // np.mean(control) = 11.01, np.var(control, ddof=1) = 2.1343333333333336
    const s = summarize(control);
    expect(s.n).toBe(10);
    expectClose(s.mean, 11.01, 1e-14);
    expectClose(s.variance, 2.1343333333333336, 1e-13);
  });
});
