/**
 * Seeded simulations checking the power calculator: experiments run at the sample size the
 * calculator gives for 80% power detect the injected effect at the predicted rate, within
 * 5 percentage points (binomial sd over 1,000 experiments is 1.3 points).
 */
import { describe, expect, it } from 'vitest';
import { welchTTest } from './means.ts';
import { meansSampleSize, proportionsSampleSize } from './power.ts';
import { createRng } from './prng.ts';
import { twoProportionZTest } from './proportions.ts';

const EXPERIMENTS = 1000;

describe('power calculator against simulated experiments (seeded)', () => {
  it('means: Welch at the planned n detects a 0.1σ effect at the predicted power', () => {
    const plan = meansSampleSize({
      baselineMean: 10,
      standardDeviation: 1,
      mde: { absolute: 0.1 },
      power: 0.8,
    });
    expect(plan.control).toBe(1570);
    const rng = createRng(1701);
    let detected = 0;
    for (let e = 0; e < EXPERIMENTS; e++) {
      const cell = (n: number, mean: number) => {
        let s = 0;
        let s2 = 0;
        for (let i = 0; i < n; i++) {
          const x = mean + rng.normal();
          s += x;
          s2 += x * x;
        }
        const m = s / n;
        return { n, mean: m, variance: (s2 - s * m) / (n - 1) };
      };
      const r = welchTTest(cell(plan.control, 10), cell(plan.treatment, 10.1));
      if (r.pValue < 0.05) detected++;
    }
    expect(Math.abs(detected / EXPERIMENTS - plan.power)).toBeLessThanOrEqual(0.05);
  });

  it('proportions: the z-test at the planned n detects 10% -> 11% at the predicted power', () => {
    const plan = proportionsSampleSize({ baselineRate: 0.1, mde: { relative: 0.1 }, power: 0.8 });
    const rng = createRng(1702);
    let detected = 0;
    for (let e = 0; e < EXPERIMENTS; e++) {
      const successes = (n: number, p: number) => {
        const threshold = p * 2 ** 32;
        let k = 0;
        for (let i = 0; i < n; i++) if (rng.nextUint32() < threshold) k++;
        return { n, successes: k };
      };
      const r = twoProportionZTest(successes(plan.control, 0.1), successes(plan.treatment, 0.11));
      if (r.pValue < 0.05) detected++;
    }
    expect(Math.abs(detected / EXPERIMENTS - plan.power)).toBeLessThanOrEqual(0.05);
  });
});
