/**
 * Seeded simulations of the analysis's sequential decisions, run THROUGH evaluateExperiment
 * (the function analyzeExperiment calls on ClickHouse's sums), not the statistics primitive:
 * sufficient statistics per daily cohort as queries.ts returns them, the sample-size plan the
 * analysis computes from the definition's MDE, alpha and power, the group-sequential look of
 * every run carried to the next run exactly as the store carries it (sequentialLooksOf /
 * readSequentialLooks), Holm and decide().
 *
 * Each experiment streams N(1000, 300²) unit values (a play delay in ms) into two cells in 10
 * daily batches sized so that the 10th look reaches the planned sample, and is analysed
 * after every batch: 10 peeks. It stops at the first run whose primary comparison is
 * declared better or worse (status from decide, read off the deciding row).
 *
 * - A/A: the false-positive rate must be in [3%, 7%], alpha = 5% ± 3 binomial standard
 *   deviations (√(0.05·0.95/1000) = 0.69%). The mSPRT gives ~0.9% here
 *   (stats/msprt.simulation.test.ts), which is why it is only the fallback without a plan.
 * - A/B with the MDE injected: the share of experiments declared better must be within 5
 *   points of the power the calculator (stats/power.ts meansPower) predicts at the planned
 *   sample. O'Brien-Fleming spending over 10 looks at the fixed-horizon size loses a point or
 *   two of power (an inflation factor of 1.053 would restore it: stats/group-sequential.
 *   simulation.test.ts); the plan's spread is estimated from the data, as in production.
 */
import { describe, expect, it } from 'vitest';
import type { MetricName } from '../definitions/vocabulary.ts';
import { createRng, meansPower, meansSampleSize } from '../stats/index.ts';
import { definitionFromYaml } from './definition-text.ts';
import { evaluateExperiment } from './evaluate.ts';
import type { CohortStatistics, SufficientStatistics } from './queries.ts';
import type { SequentialLook } from './result.ts';
import { sequentialLooksOf } from './store.ts';

const EXPERIMENTS = 1000;
const LOOKS = 10;
const MEAN = 1000;
const SD = 300;
const MDE = 60; // ms, 0.2 standard deviations
const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 9, 1);

const DEFINITION = definitionFromYaml(
  `
key: sequential-simulation
hypothesis: Simulated play delays, to check the analysis's sequential false-positive rate and power.
owner: test@playloop.dev
unit: viewer
status: running
namespace: { name: sim, range: { start: 0, end: 10000 } }
seed: sequential-simulation-1
hashVersion: 1
trafficShare: 1
cells:
  - { name: control, control: true, weight: 5000, config: { abr: { abrBandWidthFactor: 0.95 } } }
  - { name: treatment, weight: 5000, config: { abr: { abrBandWidthFactor: 0.8 } } }
metrics:
  primary: { metric: startupMs, better: lower, mde: { absolute: ${MDE} } }
analysis: { alpha: 0.05, power: 0.8, decisionRule: superiority, minRuntimeDays: 1 }
`,
  'sequential-simulation.yaml',
);
const METRICS: MetricName[] = ['startupMs'];

/** The calculator's plan at the true spread: what the 10 batches are sized to reach. */
const PLAN = meansSampleSize({
  baselineMean: MEAN,
  standardDeviation: SD,
  mde: { absolute: -MDE },
  alpha: 0.05,
  power: 0.8,
});
const BATCH = Math.ceil(PLAN.control / LOOKS);

interface Outcome {
  readonly better: number;
  readonly worse: number;
  readonly looksTaken: number;
}

/** Runs the experiments; `effect` is added to every treatment value (negative: faster). */
function simulate(seed: number, effect: number): Outcome {
  const rng = createRng(seed);
  let better = 0;
  let worse = 0;
  let looksTaken = 0;
  for (let e = 0; e < EXPERIMENTS; e++) {
    const cohorts: CohortStatistics[] = [];
    const previous = new Map<string, SequentialLook[]>();
    for (let k = 0; k < LOOKS; k++) {
      for (const [cell, shift] of [
        ['control', 0],
        ['treatment', effect],
      ] as const) {
        let sum = 0;
        let sumSquares = 0;
        for (let i = 0; i < BATCH; i++) {
          const y = MEAN + shift + SD * rng.normal();
          sum += y;
          sumSquares += y * y;
        }
        cohorts.push({
          cell,
          cohortDay: Math.floor(START / DAY_MS) + k,
          units: BATCH,
          sessionViews: BATCH,
          unitsInSeveralCells: 0,
          firstAllocationMs: START + k * DAY_MS,
          metrics: [{ n: BATCH, sum, sumSquares }],
          cuped: {
            withCovariate: { n: 0, sumY: 0, sumY2: 0, sumX: 0, sumX2: 0, sumXY: 0 },
            withoutCovariate: { n: BATCH, sumY: sum, sumY2: sumSquares },
          },
        });
      }
      const stats: SufficientStatistics = {
        experimentKey: DEFINITION.key,
        unit: 'viewer',
        metrics: METRICS,
        cohorts: [...cohorts],
        playDelay: new Map(),
      };
      const result = evaluateExperiment(DEFINITION, stats, {
        now: START + (k + 1) * DAY_MS,
        mode: 'sequential',
        quantiles: [],
        previousLooks: previous,
      });
      // What the store records of this run, read back by the next one.
      for (const [key, look] of sequentialLooksOf(result))
        previous.set(key, [...(previous.get(key) ?? []), look]);
      const primary = result.metrics.find((m) => m.role === 'primary' && m.decides && !m.control);
      expect(primary?.comparison?.sequential?.method).toBe('group-sequential');
      if (primary?.status === 'better' || primary?.status === 'worse') {
        if (primary.status === 'better') better++;
        else worse++;
        looksTaken += k + 1;
        break;
      }
      if (k === LOOKS - 1) looksTaken += LOOKS;
    }
  }
  return { better, worse, looksTaken };
}

describe('the analysis sequential decisions (1,000 experiments, 10 peeks each, seeded)', () => {
  it('keeps the A/A false-positive rate in [3%, 7%] at alpha 5%', () => {
    const { better, worse } = simulate(20261126, 0);
    const rate = (better + worse) / EXPERIMENTS;
    expect(rate, `false-positive rate ${rate}`).toBeGreaterThanOrEqual(0.03);
    console.log(`A/A: ${better} better, ${worse} worse of ${EXPERIMENTS}: rate ${rate}`);
    expect(rate, `false-positive rate ${rate}`).toBeLessThanOrEqual(0.07);
  }, 600_000);

  it('detects the MDE at the power the calculator predicts, within 5 points', () => {
    const predicted = meansPower(
      { baselineMean: MEAN, standardDeviation: SD, mde: { absolute: -MDE }, alpha: 0.05 },
      { nControl: BATCH * LOOKS, nTreatment: BATCH * LOOKS },
    );
    const { better, looksTaken } = simulate(20261127, -MDE);
    const rate = better / EXPERIMENTS;
    console.log(
      `A/B: ${better} detected of ${EXPERIMENTS} (${rate}) vs predicted ${predicted}; mean looks ${looksTaken / EXPERIMENTS}`,
    );
    expect(Math.abs(rate - predicted), `detected ${rate} vs predicted ${predicted}`).toBeLessThanOrEqual(
      0.05,
    );
    // Stopping early is the point: on average before the last look.
    expect(looksTaken / EXPERIMENTS).toBeLessThan(LOOKS);
  }, 600_000);
});
