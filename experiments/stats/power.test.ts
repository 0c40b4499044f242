import { describe, expect, it } from 'vitest';
import {
  meansPower,
  meansSampleSize,
  proportionsPower,
  proportionsSampleSize,
  resolveEffect,
} from './power.ts';
import { expectClose } from './test-helpers.ts';

// Reference values: reference/generate.py with scipy 1.17.1 and statsmodels 0.15.0.

describe('means', () => {
  it('solves the planning formula for an even split', () => {
    // play delay sd 800 ms, MDE 25 ms (2% of 1250): N = (z_.975 + z_.8)² sd² (1/wc + 1/wt) / δ²
    // with stats.norm.ppf -> 32149.011391893862
    const r = meansSampleSize({ baselineMean: 1250, standardDeviation: 800, mde: { relative: 0.02 } });
    expectClose(r.exactTotalUnits, 32149.011391893862, 1e-12);
    expect(r.effect).toBe(25);
    expect(r.control).toBe(16075);
    expect(r.treatment).toBe(16075);
    // NormalIndPower().solve_power(effect_size=0.03125, alpha=0.05, power=0.8, ratio=1.0) -> 16074.466323097071
    // (statsmodels also counts the far rejection region, ~1e-6 of probability: agreement to 3e-6).
    expectClose(r.exactTotalUnits / 2, 16074.466323097071, 5e-6);
    // NormalIndPower().power(effect_size=0.03125, nobs1=16075, alpha=0.05, ratio=1) -> 0.8000130195472156
    expectClose(r.power, 0.8000130195472156, 1e-12);
  });

  it('plans unequal weights (control and one treatment of a three-cell test)', () => {
    // N = (z_.975 + z_.8)² (1/0.34 + 1/0.33) / 0.1² -> 4686.942443862645
    const r = meansSampleSize({
      baselineMean: 0,
      standardDeviation: 1,
      mde: { absolute: 0.1 },
      weights: { control: 0.34, treatment: 0.33 },
    });
    expectClose(r.exactTotalUnits, 4686.942443862645, 1e-12);
    expect(r.control).toBe(1594);
    expect(r.treatment).toBe(1547);
    // NormalIndPower().solve_power(effect_size=0.1, alpha=0.05, power=0.8, ratio=0.9705882352941176) -> 1593.556527650751
    expectClose(r.exactTotalUnits * 0.34, 1593.556527650751, 5e-6);
    // NormalIndPower().power(effect_size=0.1, nobs1=1594, alpha=0.05, ratio=1547/1594) -> 0.8000939785000303
    expectClose(r.power, 0.8000939785000303, 1e-12);
  });

  it('gives the power achieved at given sizes', () => {
    // NormalIndPower().power(effect_size=0.05, nobs1=3000, alpha=0.05, ratio=1.2) -> 0.5250057488941163
    const power = meansPower(
      { baselineMean: 10, standardDeviation: 2, mde: { absolute: 0.1 } },
      { nControl: 3000, nTreatment: 3600 },
    );
    expectClose(power, 0.5250057488941163, 1e-12);
  });
});

describe('proportions', () => {
  it('matches statsmodels for a 10% baseline and +1 point', () => {
    // samplesize_proportions_2indep_onetail(0.01, 0.1, 0.8, ratio=1.0, alpha=0.05, alternative='two-sided') -> 14750.790469044945
    const r = proportionsSampleSize({ baselineRate: 0.1, mde: { relative: 0.1 } });
    expectClose(r.exactTotalUnits / 2, 14750.790469044945, 1e-12);
    expect(r.treatment).toBe(14751);
    expect(r.control).toBe(14751);
    // power_proportions_2indep(0.01, 0.1, 14751, ratio=1, alpha=0.05).power -> 0.8000065290879337
    expectClose(r.power, 0.8000065290879337, 1e-12);
  });

  it('matches statsmodels for a 2% failure rate cut by 10%, unequal weights', () => {
    // samplesize_proportions_2indep_onetail(-0.002, 0.02, 0.8, ratio=0.34/0.33, alpha=0.05, alternative='two-sided') -> 72092.92465178118
    const r = proportionsSampleSize({
      baselineRate: 0.02,
      mde: { absolute: -0.002 },
      weights: { control: 0.34, treatment: 0.33 },
    });
    expectClose(r.exactTotalUnits * 0.33, 72092.92465178118, 1e-12);
    expect(r.treatment).toBe(72093);
    expect(r.control).toBe(74278);
    // power_proportions_2indep(-0.002, 0.02, 72093, ratio=74278/72093, alpha=0.05).power -> 0.80000228226205
    expectClose(r.power, 0.80000228226205, 1e-12);
    expectClose(
      proportionsPower(
        { baselineRate: 0.02, mde: { absolute: -0.002 } },
        { nControl: 74278, nTreatment: 72093 },
      ),
      0.80000228226205,
      1e-12,
    );
  });

  it('refuses effects that leave (0, 1) and ambiguous effect sizes', () => {
    expect(() => proportionsSampleSize({ baselineRate: 0.95, mde: { absolute: 0.1 } })).toThrow(/outside/);
    expect(() => resolveEffect({ relative: 0.1, absolute: 1 }, 10)).toThrow(/exactly one/);
    expect(() => resolveEffect({}, 10)).toThrow(/exactly one/);
  });
});
