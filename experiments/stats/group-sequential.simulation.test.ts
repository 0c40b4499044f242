/**
 * Seeded simulations of the group-sequential test (the acceptance simulations for sequential
 * testing with a planned number of looks).
 *
 * Each experiment streams N(0, 1) units into two cells in 10 equal batches, keeping only the
 * sufficient statistics (n, Σx, Σx²) per cell, and is analysed after every batch through
 * groupSequentialUpdate, as the analysis would: Welch-style variance of the difference from
 * the sample variances, information fraction (1/V)/I_max with I_max planned from the unit
 * variance 1 (so the fractions wander a little around k/10, as they do with real data), the
 * 10th look marked final. An experiment stops at its first crossing, or at the look whose
 * information reaches the plan (t >= 1: the final look spends what is left, J&T ch. 7).
 *
 * Unlike the mSPRT (msprt.simulation.test.ts: ~1% at 10 looks, because it guards every
 * possible look), the spending boundaries are fitted to the looks actually taken, so the A/A
 * false-positive rate is alpha itself: [3%, 7%] is 5% ± 3 binomial standard deviations
 * (sd = √(0.05·0.95/1000) = 0.69%).
 */
import { describe, expect, it } from 'vitest';
import {
  type GroupSequentialConfig,
  groupSequentialBoundaries,
  groupSequentialInflationFactor,
  groupSequentialInitialState,
  groupSequentialMaxInformation,
  groupSequentialPower,
  groupSequentialUpdate,
  type SpendingFunctionKind,
} from './group-sequential.ts';
import { normalCdf, normalQuantile } from './normal.ts';
import { createRng } from './prng.ts';
import type { MeanSummary } from './types.ts';

const EXPERIMENTS = 1000;
const LOOKS = 10;
const ALPHA = 0.05;

interface CellSums {
  sum: Float64Array;
  sumSq: Float64Array;
}

interface Simulated {
  control: CellSums;
  treatment: CellSums;
  batch: number;
}

/** Cumulative Σx and Σx² after each batch, for every experiment: [experiment * LOOKS + look]. */
function simulate(seed: number, batch: number): Simulated {
  const rng = createRng(seed);
  const make = (): CellSums => ({
    sum: new Float64Array(EXPERIMENTS * LOOKS),
    sumSq: new Float64Array(EXPERIMENTS * LOOKS),
  });
  const control = make();
  const treatment = make();
  for (let e = 0; e < EXPERIMENTS; e++) {
    for (const cell of [control, treatment]) {
      let s = 0;
      let s2 = 0;
      for (let k = 0; k < LOOKS; k++) {
        for (let i = 0; i < batch; i++) {
          const x = rng.normal();
          s += x;
          s2 += x * x;
        }
        cell.sum[e * LOOKS + k] = s;
        cell.sumSq[e * LOOKS + k] = s2;
      }
    }
  }
  return { control, treatment, batch };
}

/** A cell's summary after `looks` batches, every unit shifted by `shift`. */
function summary(cell: CellSums, e: number, looks: number, batch: number, shift = 0): MeanSummary {
  const n = looks * batch;
  const rawSum = cell.sum[e * LOOKS + looks - 1] as number;
  const sum = rawSum + shift * n;
  const sumSq = (cell.sumSq[e * LOOKS + looks - 1] as number) + 2 * shift * rawSum + n * shift * shift;
  const mean = sum / n;
  return { n, mean, variance: (sumSq - sum * mean) / (n - 1) };
}

interface Outcome {
  /** Experiments that crossed a boundary (either side). */
  readonly rejected: number;
  /** Experiments that crossed on the side of a positive effect. */
  readonly upward: number;
  /** Mean share of the planned sample used before stopping. */
  readonly meanSampleShare: number;
}

function run(data: Simulated, spending: SpendingFunctionKind, shift = 0): Outcome {
  const planned = data.batch * LOOKS;
  const config: GroupSequentialConfig = {
    alpha: ALPHA,
    spending,
    maxInformation: groupSequentialMaxInformation({ control: 1, treatment: 1 }, planned, planned),
  };
  let rejected = 0;
  let upward = 0;
  let units = 0;
  for (let e = 0; e < EXPERIMENTS; e++) {
    let state = groupSequentialInitialState(config);
    for (let k = 1; k <= LOOKS; k++) {
      const result = groupSequentialUpdate(config, state, {
        control: summary(data.control, e, k, data.batch),
        treatment: summary(data.treatment, e, k, data.batch, shift),
        final: k === LOOKS,
      });
      state = result;
      // The design ends at the first crossing, or when the information reaches the plan
      // (which, with estimated variances, can happen a look early).
      if (result.crossed || result.finished) {
        units += k * data.batch;
        if (result.crossed) {
          rejected++;
          if (result.z > 0) upward++;
        }
        break;
      }
    }
  }
  return { rejected, upward, meanSampleShare: units / (EXPERIMENTS * planned) };
}

/** Fixed-horizon units per cell for `power` at a standardized effect (σ = 1): (z_{1-α/2} + z_{power})²·2/δ². */
function fixedSampleSize(effect: number, power: number): number {
  return ((-normalQuantile(ALPHA / 2) + normalQuantile(power)) ** 2 * 2) / effect ** 2;
}

describe('group-sequential A/A simulation (1,000 experiments, 10 looks, seeded)', () => {
  const data = simulate(20241126, 100); // 1,000 units per cell at the last look

  it.each(['obrien-fleming', 'pocock'] as const)(
    'keeps the false-positive rate at alpha with %s spending',
    (spending) => {
      const { rejected } = run(data, spending);
      const rate = rejected / EXPERIMENTS;
      expect(rate, `false-positive rate ${rate}`).toBeGreaterThanOrEqual(0.03);
      expect(rate, `false-positive rate ${rate}`).toBeLessThanOrEqual(0.07);
    },
  );
});

describe('group-sequential power simulation (1,000 experiments with a 0.2σ effect, seeded)', () => {
  const effect = 0.2;
  const targetPower = 0.8;
  const fixed = fixedSampleSize(effect, targetPower); // 392.4 units per cell

  it.each([
    ['obrien-fleming', 7101],
    ['pocock', 7102],
  ] as const)(
    '%s: the inflated design has its planned power and stops early on average',
    (spending, seed) => {
      const fractions = Array.from({ length: LOOKS }, (_, k) => (k + 1) / LOOKS);
      const looks = groupSequentialBoundaries({ alpha: ALPHA, spending }, fractions);
      // Inflation factor (J&T ch. 2): 1.053 for O'Brien-Fleming, 1.248 for Pocock spending.
      const inflation = groupSequentialInflationFactor(ALPHA, targetPower, looks);
      const batch = Math.ceil((fixed * inflation) / LOOKS);
      const planned = batch * LOOKS;
      // Power at the rounded-up size (a little above 80%), by the recursion.
      const expected = groupSequentialPower(looks, effect * Math.sqrt(planned / 2));
      expect(expected).toBeGreaterThanOrEqual(targetPower);
      const { upward, meanSampleShare } = run(simulate(seed, batch), spending, effect);
      const rate = upward / EXPERIMENTS;
      // ± 3.5 binomial sd (1.3%) around the computed power.
      expect(Math.abs(rate - expected), `detection ${rate} vs planned ${expected}`).toBeLessThanOrEqual(
        0.045,
      );
      // The point of stopping early: on average well under the planned sample.
      expect(meanSampleShare, `mean share of the planned sample ${meanSampleShare}`).toBeLessThan(0.85);
    },
  );

  it("O'Brien-Fleming spending at the fixed-horizon size loses little power", () => {
    const batch = Math.ceil(fixed / LOOKS);
    const fixedPower = normalCdf(effect * Math.sqrt((batch * LOOKS) / 2) + normalQuantile(ALPHA / 2));
    const { upward } = run(simulate(7103, batch), 'obrien-fleming', effect);
    const rate = upward / EXPERIMENTS;
    expect(rate, `detection ${rate} vs fixed-horizon ${fixedPower}`).toBeGreaterThanOrEqual(
      fixedPower - 0.05,
    );
  });
});
