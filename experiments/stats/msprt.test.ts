import { describe, expect, it } from 'vitest';
import {
  msprtBoundary,
  msprtBoundaryCurve,
  msprtInitialState,
  msprtLogLikelihoodRatio,
  msprtMixingVariance,
  msprtSequence,
} from './msprt.ts';
import { expectClose } from './test-helpers.ts';

// Reference values: reference/generate.py, the formulas of Johari et al. evaluated
// independently in numpy 2.4.6 (Λ, running min of 1/Λ, radius, running intersection).

const looks = [
  { control: { n: 500, mean: 10.0, variance: 4.0 }, treatment: { n: 510, mean: 10.3, variance: 4.4 } },
  { control: { n: 1000, mean: 10.02, variance: 4.1 }, treatment: { n: 1020, mean: 10.31, variance: 4.3 } },
  { control: { n: 1500, mean: 10.01, variance: 4.05 }, treatment: { n: 1530, mean: 10.12, variance: 4.2 } },
];
const config = { alpha: 0.05, mixingVariance: 0.01 };

describe('mSPRT over three looks', () => {
  const results = msprtSequence(config, looks);
  it.each([
    // (V, log Λ, always-valid p, radius, ci lower, ci upper)
    [
      0, 0.01662745098039216, 0.7809388159054378, 0.45797585440132765, 0.5349004304742613,
      -0.23490043047426057, 0.834900430474262,
    ],
    [
      1, 0.008315686274509803, 2.366054943173429, 0.09385024145535606, 0.32137348384773945,
      -0.031373483847738526, 0.6113734838477404,
    ],
    [
      2, 0.005445098039215686, 0.19809310741715072, 0.09385024145535606, 0.24322074674516075,
      -0.031373483847738526, 0.3532207467451602,
    ],
  ])('look %d matches the numpy evaluation', (i, v, logLr, p, radius, lower, upper) => {
    const r = results[i];
    if (r === undefined) throw new Error('missing look');
    expect(r.looks).toBe(i + 1);
    expectClose(r.variance, v, 1e-14);
    expectClose(r.logLikelihoodRatio, logLr, 1e-12);
    expectClose(r.pValue, p, 1e-12);
    expectClose(r.boundary, radius, 1e-13);
    expectClose(r.ci.lower, lower, 1e-12);
    expectClose(r.ci.upper, upper, 1e-12);
    expect(r.rejected).toBe(false);
  });

  it('keeps the p-value and interval from widening when the evidence weakens (look 3)', () => {
    expect(results[2]?.pValue).toBe(results[1]?.pValue);
    expect(results[2]?.ci.lower).toBe(results[1]?.ci.lower);
  });

  it('starts from p = 1 and the whole line', () => {
    expect(msprtInitialState()).toEqual({ looks: 0, pValue: 1, ci: { lower: -Infinity, upper: Infinity } });
  });
});

describe('mSPRT formulas', () => {
  it("agrees with the paper's equal-n form", () => {
    // σ² = 4, n = 800 per cell, τ² = 0.02, d = 0.25: numpy log of
    // sqrt(2σ²/(2σ²+nτ²)) exp(n²τ²d²/(4σ²(2σ²+nτ²))) -> 1.5340271889992785
    expectClose(
      msprtLogLikelihoodRatio({ alpha: 0.05, mixingVariance: 0.02 }, 0.25, (2 * 4) / 800),
      1.5340271889992785,
      1e-13,
    );
  });

  it('puts the boundary exactly where Λ = 1/α', () => {
    const v = 0.004;
    const r = msprtBoundary(config, v);
    expectClose(msprtLogLikelihoodRatio(config, r, v), Math.log(20), 1e-12);
    expectClose(msprtLogLikelihoodRatio({ ...config, nullDifference: 0.1 }, 0.1 - r, v), Math.log(20), 1e-12);
  });

  it('tunes τ² to the horizon: ρ solves ρ = 2 ln(1/α) + ln(1 + ρ)', () => {
    // scipy brentq(lambda r: r - 2 ln 20 - log1p(r), 1, 100) -> 8.211968062068253
    expectClose(msprtMixingVariance(0.05, 1), 8.211968062068253, 1e-13);
    expectClose(msprtMixingVariance(0.05, 0.003), 0.003 * 8.211968062068253, 1e-13);
  });

  it('plots the boundary at planned cell sizes', () => {
    const curve = msprtBoundaryCurve(config, { control: 4, treatment: 4.4 }, [
      { nControl: 500, nTreatment: 510 },
      { nControl: 6900, nTreatment: 6900 },
      { nControl: 500_000, nTreatment: 500_000 },
    ]);
    expectClose(curve[0]?.variance ?? Number.NaN, 0.01662745098039216, 1e-14);
    expectClose(curve[0]?.boundary ?? Number.NaN, 0.5349004304742613, 1e-13);
    const [early, tuned, late] = curve.map((p) => p.zBoundary);
    // In the metric's unit the boundary narrows as data arrive...
    expect(curve[2]?.boundary ?? 1).toBeLessThan(curve[1]?.boundary ?? 0);
    // ...in standard errors it is lowest where τ²/V ≈ 8.2 (here n = 6900) and grows after.
    expect(tuned ?? 0).toBeLessThan(early ?? 0);
    expect(tuned ?? 0).toBeLessThan(late ?? 0);
  });

  it('refuses a non-positive mixing variance', () => {
    expect(() => msprtBoundary({ alpha: 0.05, mixingVariance: 0 }, 1)).toThrow(/mixingVariance/);
  });
});
