/**
 * evaluateExperiment on sufficient statistics summed here from raw per-unit values, checked
 * against values computed independently from the same raw values with scipy, statsmodels
 * and numpy (reference/generate.py prints every literal below, named by the call that made
 * it), and against experiments/stats run on independently built inputs where no scipy
 * equivalent exists (the mSPRT). Then one decision for each clear case.
 */
import { describe, expect, it } from 'vitest';
import {
  type GroupSequentialState,
  groupSequentialRepeatedPValue,
  groupSequentialSequence,
  type MeanSummary,
  msprtMixingVariance,
  msprtSequence,
  summarize,
} from '../stats/index.ts';
import { definitionFromYaml } from './definition-text.ts';
import { evaluateExperiment, expandHistogram } from './evaluate.ts';
import type { CohortStatistics, Histogram, MomentSums, SufficientStatistics } from './queries.ts';
import type { ExperimentResult, MetricResult } from './result.ts';
import { sequentialLooksOf } from './store.ts';

const DAY_MS = 86_400_000;
const NOW = Date.UTC(2026, 10, 26);
const START = NOW - 20 * DAY_MS;

function close(actual: number | null | undefined, expected: number, relative = 1e-9): void {
  expect(actual).not.toBeNull();
  expect(actual).not.toBeUndefined();
  const a = actual as number;
  expect(Math.abs(a - expected)).toBeLessThanOrEqual(relative * Math.max(1e-12, Math.abs(expected)));
}

function find(r: ExperimentResult, metric: string, cell: string, method?: string): MetricResult {
  const m = r.metrics.find(
    (x) => x.metric === metric && x.cell === cell && (method === undefined || x.method === method),
  );
  if (m === undefined) throw new Error(`no row ${metric} ${cell} ${method ?? ''}`);
  return m;
}

// ------------------------------------------------------------------ a viewer-unit experiment

interface Unit {
  readonly y: number;
  readonly x: number | null;
  readonly startup: number;
  readonly bitrate: number;
  readonly day: number;
}

// From reference/generate.py (numpy default_rng(20261126)).
const CONTROL: Unit[] = [
  { y: 0.01598, x: 0.02076, startup: 1665.1, bitrate: 2575.1, day: 0 },
  { y: 0.0281, x: 0.02411, startup: 656.7, bitrate: 3333.7, day: 1 },
  { y: 0.0113, x: 0.01667, startup: 1125.1, bitrate: 2898.2, day: 0 },
  { y: 0.03384, x: null, startup: 1029.2, bitrate: 3057.5, day: 1 },
  { y: 0.01159, x: 0.01522, startup: 1359.2, bitrate: 3199.9, day: 0 },
  { y: 0.02921, x: 0.02501, startup: 1734.7, bitrate: 3484.5, day: 1 },
  { y: 0.00443, x: 0.00442, startup: 902.0, bitrate: 2850.5, day: 0 },
  { y: 0.00963, x: null, startup: 1397.2, bitrate: 3479.7, day: 1 },
  { y: 0.01588, x: 0.01245, startup: 1174.2, bitrate: 2952.2, day: 0 },
  { y: 0.011, x: 0.00994, startup: 1106.5, bitrate: 2630.2, day: 1 },
  { y: 0.01571, x: 0.01574, startup: 579.1, bitrate: 2711.1, day: 0 },
  { y: 0.01956, x: null, startup: 1018.3, bitrate: 3382.8, day: 1 },
];
const TREATMENT: Unit[] = [
  { y: 0.01999, x: 0.02784, startup: 1373.6, bitrate: 2804.7, day: 0 },
  { y: 0.01753, x: 0.03261, startup: 1702.7, bitrate: 3079.1, day: 1 },
  { y: 0.02618, x: 0.0251, startup: 1620.1, bitrate: 2577.6, day: 0 },
  { y: 0.00598, x: null, startup: 2451.3, bitrate: 2672.9, day: 1 },
  { y: 0.01966, x: 0.0213, startup: 1154.8, bitrate: 2693.6, day: 0 },
  { y: 0.02356, x: 0.01971, startup: 778.0, bitrate: 2575.7, day: 1 },
  { y: 0.00718, x: 0.02129, startup: 596.4, bitrate: 3389.9, day: 0 },
  { y: 0.02006, x: null, startup: 1381.5, bitrate: 3050.7, day: 1 },
  { y: 0.00194, x: 0.00779, startup: 958.6, bitrate: 2843.6, day: 0 },
  { y: 0.01359, x: 0.01709, startup: 1251.1, bitrate: 2844.3, day: 1 },
  { y: 0.01581, x: 0.02832, startup: 1649.9, bitrate: 2826.0, day: 0 },
  { y: 0.03074, x: null, startup: 1637.7, bitrate: 2913.8, day: 1 },
  { y: 0.00139, x: 0.00886, startup: 673.2, bitrate: 2692.1, day: 0 },
  { y: 0.01205, x: 0.01612, startup: 1066.2, bitrate: 2770.1, day: 1 },
];

const VIEWER_EXPERIMENT = definitionFromYaml(
  `
key: lighter-abr
hypothesis: A lighter ABR start reduces the rebuffer ratio of viewers on congested paths.
owner: test@playloop.dev
unit: viewer
status: running
namespace: { name: abr, range: { start: 0, end: 10000 } }
seed: lighter-abr-1
hashVersion: 1
trafficShare: 1
cells:
  - { name: control, control: true, weight: 5000, config: { abr: { abrBandWidthFactor: 0.95 } } }
  - { name: lighter, weight: 5000, config: { abr: { abrBandWidthFactor: 0.8 } } }
metrics:
  primary: { metric: rebufferRatio, better: lower, mde: { relative: 0.1 } }
  secondary:
    - { metric: startupMs, better: lower }
  guardrails:
    - { metric: avgBitrateKbps, better: higher, margin: { relative: 0.05 } }
analysis: { alpha: 0.05, power: 0.8, decisionRule: superiority, minRuntimeDays: 14 }
`,
  'lighter-abr.yaml',
);

const moments = (values: readonly number[]): MomentSums => ({
  n: values.length,
  sum: values.reduce((s, v) => s + v, 0),
  sumSquares: values.reduce((s, v) => s + v * v, 0),
});

/** The per-cohort sums ClickHouse would return, summed here from the raw units. */
function cohortsOf(cell: string, units: readonly Unit[]): CohortStatistics[] {
  return [0, 1].map((day) => {
    const mine = units.filter((u) => u.day === day);
    const withX = mine.filter((u) => u.x !== null);
    const withoutX = mine.filter((u) => u.x === null);
    return {
      cell,
      cohortDay: Math.floor(START / DAY_MS) + day,
      units: mine.length,
      sessionViews: mine.length * 2,
      unitsInSeveralCells: 0,
      firstAllocationMs: START + day * DAY_MS,
      metrics: [
        moments(mine.map((u) => u.y)),
        moments(mine.map((u) => u.startup)),
        moments(mine.map((u) => u.bitrate)),
      ],
      cuped: {
        withCovariate: {
          n: withX.length,
          sumY: withX.reduce((s, u) => s + u.y, 0),
          sumY2: withX.reduce((s, u) => s + u.y * u.y, 0),
          sumX: withX.reduce((s, u) => s + (u.x as number), 0),
          sumX2: withX.reduce((s, u) => s + (u.x as number) ** 2, 0),
          sumXY: withX.reduce((s, u) => s + (u.x as number) * u.y, 0),
        },
        withoutCovariate: {
          n: withoutX.length,
          sumY: withoutX.reduce((s, u) => s + u.y, 0),
          sumY2: withoutX.reduce((s, u) => s + u.y * u.y, 0),
        },
      },
    };
  });
}

function histogramOf(values: readonly number[], counts: readonly number[]): Histogram {
  return { values, counts };
}

const VIEWER_STATS: SufficientStatistics = {
  experimentKey: 'lighter-abr',
  unit: 'viewer',
  metrics: ['rebufferRatio', 'startupMs', 'avgBitrateKbps'],
  cohorts: [...cohortsOf('control', CONTROL), ...cohortsOf('lighter', TREATMENT)],
  playDelay: new Map([
    ['control', histogramOf([800, 900, 1000, 1100, 1300, 1600, 2500], [3, 5, 8, 6, 4, 3, 1])],
    ['lighter', histogramOf([700, 800, 900, 1000, 1200, 2000], [4, 6, 8, 6, 4, 2])],
  ]),
};

describe('evaluateExperiment on a viewer-unit experiment', () => {
  const r = evaluateExperiment(VIEWER_EXPERIMENT, VIEWER_STATS, {
    now: NOW,
    mode: 'sequential',
    quantiles: [0.5, 0.9],
  });

  it("compares unit means with Welch's test and the delta-method lift", () => {
    const row = find(r, 'rebufferRatio', 'lighter', 'welch');
    // scipy stats.ttest_ind(t, c, equal_var=False) and .confidence_interval(0.95)
    close(row.comparison?.pValue, 0.6163291174171421);
    close(row.comparison?.difference, -0.0017815476190476218, 1e-9);
    close(row.comparison?.ci.lower, -0.009032140776971627);
    close(row.comparison?.ci.upper, 0.005469045538876383);
    // numpy, delta method (Deng et al. 2018)
    close(row.comparison?.lift?.estimate, -0.1036637318943483);
    close(row.comparison?.lift?.ci.lower, -0.4819516449044479);
    close(row.comparison?.lift?.ci.upper, 0.2746241811157513);
    expect(row.decides).toBe(false); // CUPED decides
    // scipy stats.t.interval(0.95, n - 1, mean, sem) per cell
    const control = find(r, 'rebufferRatio', 'control', 'welch');
    close(control.estimate, 0.017185833333333334);
    close(control.ci?.lower, 0.01151565781827317);
    close(control.ci?.upper, 0.0228560088483935);
    close(row.estimate, 0.015404285714285712);
    close(row.ci?.lower, 0.010259915930318875);
    close(row.ci?.upper, 0.02054865549825255);
    // scipy ttest_ind for the secondary and the guardrail
    close(find(r, 'startupMs', 'lighter').comparison?.pValue, 0.34514332753456517);
    const bitrate = find(r, 'avgBitrateKbps', 'lighter');
    close(bitrate.comparison?.pValue, 0.07672194198812278);
    close(bitrate.comparison?.ci.lower, -440.9049305443839);
    close(bitrate.comparison?.ci.upper, 24.638263877715616);
  });

  it('adjusts the primary with CUPED, filling missing pre-periods with the pooled covariate mean', () => {
    // numpy: theta = np.cov(X, Y)[0, 1] / X.var(ddof=1) over all units, missing x = mean of available x
    close(r.cuped?.theta, 0.7565664148069184, 1e-9);
    close(r.cuped?.covariateMean, 0.0185175, 1e-9);
    expect(r.cuped?.unitsWithCovariate).toBe(20);
    expect(r.cuped?.unitsWithoutCovariate).toBe(6);
    close(r.cuped?.varianceReduction['control'], 0.4688032940452279, 1e-8);
    const row = find(r, 'rebufferRatio', 'lighter', 'cuped-welch');
    expect(row.decides).toBe(true);
    close(find(r, 'rebufferRatio', 'control', 'cuped-welch').estimate, 0.018594150190895792, 1e-9);
    close(row.estimate, 0.014197156979232173, 1e-9);
    // scipy stats.ttest_ind(adj_t, adj_c, equal_var=False)
    close(row.comparison?.pValue, 0.12196079408894896, 1e-8);
    close(row.comparison?.ci.lower, -0.010057386372276666, 1e-8);
    close(row.comparison?.ci.upper, 0.0012633999489494278, 1e-8);
  });

  it('plans the sample size from the MDE on the adjusted spread', () => {
    // statsmodels NormalIndPower().solve_power(d = 0.1 * mean_c / sd_adj, 0.05, 0.8, ratio=1) = 224.85
    expect(r.power?.plannedSamplePerCell).toBe(225);
    close(r.power?.standardDeviation, 0.006504257067767755, 1e-8);
    expect(r.power?.method).toBe('means');
  });

  it('checks the sample ratio against the weights', () => {
    // scipy stats.chisquare([12, 14], [13, 13])
    close(r.srm?.pValue, 0.6948866023724733, 1e-9);
    expect(r.srm?.mismatch).toBe(false);
    expect(r.cells.map((c) => [c.cell, c.units])).toEqual([
      ['control', 12],
      ['lighter', 14],
    ]);
  });

  it('gives exact order-statistic intervals and the Maritz-Jarrett difference for play-delay quantiles', () => {
    // numpy quantile(method='inverted_cdf'); scipy quantile_test(...).confidence_interval(0.95)
    const c50 = find(r, 'startupMs:p50', 'control');
    expect([c50.estimate, c50.ci?.lower, c50.ci?.upper]).toEqual([1000, 1000, 1100]);
    const t50 = find(r, 'startupMs:p50', 'lighter');
    expect([t50.estimate, t50.ci?.lower, t50.ci?.upper]).toEqual([900, 800, 1000]);
    const c90 = find(r, 'startupMs:p90', 'control');
    expect([c90.estimate, c90.ci?.lower, c90.ci?.upper]).toEqual([1600, 1300, Number.POSITIVE_INFINITY]);
    // scipy.stats.beta.cdf Maritz-Jarrett weights, numpy; two-sided normal p
    close(t50.comparison?.difference, -100);
    close(t50.comparison?.standardError, 60.389648734162904, 1e-8);
    close(t50.comparison?.pValue, 0.09773945334935892, 1e-8);
    const t90 = find(r, 'startupMs:p90', 'lighter');
    close(t90.comparison?.standardError, 356.5255865168735, 1e-8);
    close(t90.comparison?.pValue, 0.2618883293192563, 1e-8);
  });

  it('runs the group-sequential test over recorded runs, as experiments/stats does on the raw units', () => {
    // Run 1 a day earlier on the day-0 cohort only; run 2 now, reading run 1's look back as
    // the store would. Expected: the stats library's design over the same two looks, built
    // from the raw units, at information fraction n_h / planned n of each run.
    const dayZero: SufficientStatistics = {
      ...VIEWER_STATS,
      cohorts: VIEWER_STATS.cohorts.filter((c) => c.cohortDay === Math.floor(START / DAY_MS)),
    };
    const r1 = evaluateExperiment(VIEWER_EXPERIMENT, dayZero, {
      now: NOW - DAY_MS,
      mode: 'sequential',
      quantiles: [],
    });
    const r2 = evaluateExperiment(VIEWER_EXPERIMENT, VIEWER_STATS, {
      now: NOW,
      mode: 'sequential',
      quantiles: [],
      previousLooks: new Map([...sequentialLooksOf(r1)].map(([k, look]) => [k, [look]])),
    });
    const row = find(r2, 'startupMs', 'lighter');
    const summaryOf = (units: readonly Unit[]): MeanSummary => summarize(units.map((u) => u.startup));
    // Both looks' fractions against the plan of the run that reads them (run 2's).
    const planned = r2.power?.plannedSamplePerCell as number;
    const lookAt = (day: number) => {
      const control = summaryOf(CONTROL.filter((u) => u.day <= day));
      const treatment = summaryOf(TREATMENT.filter((u) => u.day <= day));
      return {
        control,
        treatment,
        informationFraction: 2 / (planned * (1 / control.n + 1 / treatment.n)),
      };
    };
    const results = groupSequentialSequence({ alpha: 0.05, spending: 'obrien-fleming' }, [
      lookAt(0),
      lookAt(1),
    ]);
    const state = results[1] as GroupSequentialState;
    expect(row.comparison?.sequential?.method).toBe('group-sequential');
    close(row.comparison?.sequential?.pValue, groupSequentialRepeatedPValue(state), 1e-12);
    close(row.comparison?.sequential?.ci.lower, state.ci.lower, 1e-12);
    close(row.comparison?.sequential?.ci.upper, state.ci.upper, 1e-12);
    expect(row.comparison?.sequential?.looks).toBe(2);
    close(row.comparison?.sequential?.informationFraction, state.informationFractions[1] as number, 1e-12);
    expect(r2.looks).toBe(2);
    expect(r2.sequentialMethod).toBe('group-sequential');
    // Re-running on the same data adds no information: no new look, the same evidence.
    const again = evaluateExperiment(VIEWER_EXPERIMENT, VIEWER_STATS, {
      now: NOW + 1,
      mode: 'sequential',
      quantiles: [],
      previousLooks: new Map(
        [...sequentialLooksOf(r1)].map(([k, look]) => [k, [look, sequentialLooksOf(r2).get(k) ?? look]]),
      ),
    });
    const same = find(again, 'startupMs', 'lighter');
    expect(same.comparison?.sequential?.look).toBeNull();
    expect(same.comparison?.sequential?.looks).toBe(2);
    expect(same.comparison?.sequential?.pValue).toBe(row.comparison?.sequential?.pValue);
  });

  it('falls back to the mSPRT over daily cohorts when there is no sample-size plan, and says so', () => {
    // A control whose primary does not vary gives no plan (no spread to plan with).
    const flat: SufficientStatistics = {
      ...VIEWER_STATS,
      cohorts: VIEWER_STATS.cohorts.map((c) =>
        c.cell === 'control'
          ? {
              ...c,
              metrics: [moments(Array(c.units).fill(0.01)), ...c.metrics.slice(1)],
              cuped: {
                withCovariate: { n: 0, sumY: 0, sumY2: 0, sumX: 0, sumX2: 0, sumXY: 0 },
                withoutCovariate: { n: 0, sumY: 0, sumY2: 0 },
              },
            }
          : {
              ...c,
              cuped: { ...c.cuped, withCovariate: { n: 0, sumY: 0, sumY2: 0, sumX: 0, sumX2: 0, sumXY: 0 } },
            },
      ),
    };
    const r = evaluateExperiment(VIEWER_EXPERIMENT, flat, { now: NOW, mode: 'sequential', quantiles: [] });
    expect(r.power).toBeNull();
    expect(r.sequentialMethod).toBe('msprt');
    expect(r.decision.reasons.some((x) => /No sample-size plan.*mSPRT/.test(x))).toBe(true);
    const row = find(r, 'startupMs', 'lighter');
    const look = (units: readonly Unit[]): MeanSummary => summarize(units.map((u) => u.startup));
    const looks = [0, 1].map((day) => ({
      control: look(CONTROL.filter((u) => u.day <= day)),
      treatment: look(TREATMENT.filter((u) => u.day <= day)),
    }));
    const last = looks[1] as { control: MeanSummary; treatment: MeanSummary };
    // Without a plan, τ² is tuned to the variance of the difference now.
    const tau2 = msprtMixingVariance(
      0.05,
      last.control.variance / last.control.n + last.treatment.variance / last.treatment.n,
    );
    const expected = msprtSequence({ alpha: 0.05, mixingVariance: tau2 }, looks)[1];
    expect(row.comparison?.sequential?.method).toBe('msprt');
    close(row.comparison?.sequential?.pValue, expected?.pValue as number, 1e-9);
    close(row.comparison?.sequential?.ci.lower, expected?.ci.lower as number, 1e-9);
    close(row.comparison?.sequential?.ci.upper, expected?.ci.upper as number, 1e-9);
    expect(row.comparison?.sequential?.looks).toBe(2);
    expect(r.looks).toBe(2);
  });

  it('decides once, with reasons, and corrects secondaries with Benjamini-Hochberg', () => {
    // Nothing is significant: 26 units against a plan of 225 per cell.
    expect(r.decision.kind).toBe('continue');
    expect(r.decision.cell).toBeNull();
    expect(r.decision.reasons.join(' ')).toMatch(/rebufferRatio/);
    const secondary = r.metrics.filter((m) => m.role === 'secondary' && m.comparison !== null);
    expect(secondary.map((m) => m.metric)).toEqual(['startupMs', 'startupMs:p50', 'startupMs:p90']);
    for (const m of secondary) expect(m.comparison?.pAdjustment).toBe('benjamini-hochberg');
    expect(find(r, 'avgBitrateKbps', 'lighter').status).toMatch(/pass|breach|inconclusive/);
  });
});

// ------------------------------------------------------------------ a session-unit experiment

describe('evaluateExperiment on a session-unit rate', () => {
  const def = definitionFromYaml(
    `
key: start-faster
hypothesis: Starting at a lower level reduces exits before video start on mobile sessions.
owner: test@playloop.dev
unit: session
status: running
namespace: { name: start, range: { start: 0, end: 10000 } }
seed: start-faster-1
hashVersion: 1
trafficShare: 1
cells:
  - { name: control, control: true, weight: 5000, config: { abr: { startLevel: -1 } } }
  - { name: low-start, weight: 5000, config: { abr: { startLevel: 0 } } }
metrics:
  primary: { metric: ebvs, better: lower, mde: { absolute: 0.01 } }
analysis: { alpha: 0.05, power: 0.8, decisionRule: superiority, minRuntimeDays: 7 }
`,
    'start-faster.yaml',
  );
  // EBVS in 60 of 1000 control sessions and 35 of 1000 treatment sessions; one cohort each.
  const bernoulli = (n: number, k: number): MomentSums => ({ n, sum: k, sumSquares: k });
  const cohort = (cell: string, k: number): CohortStatistics => ({
    cell,
    cohortDay: Math.floor(START / DAY_MS),
    units: 1000,
    sessionViews: 1000,
    unitsInSeveralCells: 0,
    firstAllocationMs: START,
    metrics: [bernoulli(1000, k)],
    cuped: {
      withCovariate: { n: 0, sumY: 0, sumY2: 0, sumX: 0, sumX2: 0, sumXY: 0 },
      withoutCovariate: { n: 1000, sumY: k, sumY2: k },
    },
  });
  const r = evaluateExperiment(
    def,
    {
      experimentKey: 'start-faster',
      unit: 'session',
      metrics: ['ebvs'],
      cohorts: [cohort('control', 60), cohort('low-start', 35)],
      playDelay: new Map(),
    },
    { now: NOW, mode: 'fixed-horizon', quantiles: [] },
  );

  it('uses the two-proportion z-test, the Wald interval and Wilson intervals per cell', () => {
    const row = find(r, 'ebvs', 'low-start');
    expect(row.method).toBe('two-proportion-z');
    // statsmodels proportions_ztest([35, 60], [1000, 1000])
    close(row.comparison?.pValue, 0.008585742387120003, 1e-9);
    // statsmodels confint_proportions_2indep(35, 1000, 60, 1000, method='wald', compare='diff')
    close(row.comparison?.ci.lower, -0.04361191954517568, 1e-9);
    close(row.comparison?.ci.upper, -0.006388080454824304, 1e-9);
    // statsmodels proportion_confint(60, 1000, 0.05, method='wilson')
    const control = find(r, 'ebvs', 'control');
    close(control.estimate, 0.06);
    close(control.ci?.lower, 0.04689647267593195, 1e-9);
    close(control.ci?.upper, 0.07647107479135656, 1e-9);
    expect(r.cuped).toBeNull();
  });

  it('plans the proportions sample size and waits for it under a fixed horizon', () => {
    // statsmodels samplesize_proportions_2indep_onetail(-0.01, 0.06, 0.8, ratio=1, alpha=0.05, 'two-sided') = 8157.73
    expect(r.power?.plannedSamplePerCell).toBe(8158);
    expect(r.decision.kind).toBe('continue');
    expect(r.decision.reasons[0]).toMatch(/Fixed-horizon/);
  });
});

// ------------------------------------------------------------------ decisions

/** Sums of n values with the given mean and sample standard deviation. */
function sumsOf(n: number, mean: number, sd: number): MomentSums {
  return { n, sum: n * mean, sumSquares: (n - 1) * sd * sd + n * mean * mean };
}

interface Arm {
  readonly units: number;
  readonly rebuffer: readonly [number, number];
  readonly bitrate: readonly [number, number];
}

function decisionStats(control: Arm, treatment: Arm): SufficientStatistics {
  const cohorts = (cell: string, a: Arm): CohortStatistics[] =>
    [0, 1].map((day) => ({
      cell,
      cohortDay: Math.floor(START / DAY_MS) + day,
      units: a.units / 2,
      sessionViews: a.units,
      unitsInSeveralCells: 0,
      firstAllocationMs: START + day * DAY_MS,
      metrics: [
        sumsOf(a.units / 2, a.rebuffer[0], a.rebuffer[1]),
        sumsOf(a.units / 2, 1000, 300),
        sumsOf(a.units / 2, a.bitrate[0], a.bitrate[1]),
      ],
      cuped: {
        withCovariate: { n: 0, sumY: 0, sumY2: 0, sumX: 0, sumX2: 0, sumXY: 0 },
        withoutCovariate: {
          n: a.units / 2,
          sumY: (a.units / 2) * a.rebuffer[0],
          sumY2: sumsOf(a.units / 2, a.rebuffer[0], a.rebuffer[1]).sumSquares,
        },
      },
    }));
  return {
    experimentKey: 'lighter-abr',
    unit: 'viewer',
    metrics: ['rebufferRatio', 'startupMs', 'avgBitrateKbps'],
    cohorts: [...cohorts('control', control), ...cohorts('lighter', treatment)],
    playDelay: new Map(),
  };
}

const CONTROL_ARM: Arm = { units: 40_000, rebuffer: [0.02, 0.01], bitrate: [3000, 500] };

function decideOn(treatment: Arm, control: Arm = CONTROL_ARM): ExperimentResult {
  return evaluateExperiment(VIEWER_EXPERIMENT, decisionStats(control, treatment), {
    now: NOW,
    mode: 'sequential',
    quantiles: [],
  });
}

describe('the decision', () => {
  it('ships a clear win', () => {
    const r = decideOn({ units: 40_000, rebuffer: [0.017, 0.01], bitrate: [2995, 500] });
    expect(r.decision).toMatchObject({ kind: 'ship', cell: 'lighter' });
    expect(find(r, 'rebufferRatio', 'lighter').status).toBe('better');
    expect(find(r, 'avgBitrateKbps', 'lighter').status).toBe('pass');
  });

  it('keeps the control on a clear loss', () => {
    const r = decideOn({ units: 40_000, rebuffer: [0.023, 0.01], bitrate: [3000, 500] });
    expect(r.decision).toMatchObject({ kind: 'keep-control', cell: null });
    expect(find(r, 'rebufferRatio', 'lighter').status).toBe('worse');
  });

  it('keeps the control when a guardrail is breached, whatever the primary says', () => {
    const r = decideOn({ units: 40_000, rebuffer: [0.017, 0.01], bitrate: [2700, 500] });
    expect(r.decision.kind).toBe('keep-control');
    expect(find(r, 'rebufferRatio', 'lighter').status).toBe('better');
    expect(find(r, 'avgBitrateKbps', 'lighter').status).toBe('breach');
  });

  it('keeps the control on a sample ratio mismatch, however good the metrics look', () => {
    const r = decideOn({ units: 36_000, rebuffer: [0.017, 0.01], bitrate: [3000, 500] });
    expect(r.srm?.mismatch).toBe(true);
    expect(r.decision.kind).toBe('keep-control');
    expect(r.decision.reasons[0]).toMatch(/Sample ratio mismatch/);
  });

  it('continues before the minimum runtime, and with no data at all', () => {
    const early = evaluateExperiment(
      VIEWER_EXPERIMENT,
      decisionStats(CONTROL_ARM, { units: 40_000, rebuffer: [0.017, 0.01], bitrate: [2995, 500] }),
      { now: START + 5 * DAY_MS, mode: 'sequential', quantiles: [] },
    );
    expect(early.decision.kind).toBe('continue');
    const empty = evaluateExperiment(
      VIEWER_EXPERIMENT,
      {
        experimentKey: 'lighter-abr',
        unit: 'viewer',
        metrics: ['rebufferRatio', 'startupMs', 'avgBitrateKbps'],
        cohorts: [],
        playDelay: new Map(),
      },
      { now: NOW, mode: 'sequential', quantiles: [0.5] },
    );
    expect(empty.decision.kind).toBe('continue');
    expect(empty.srm).toBeNull();
    expect(empty.metrics.every((m) => m.comparison === null)).toBe(true);
  });
});

describe('expandHistogram', () => {
  it('gives the sorted sample a histogram stands for', () => {
    expect(Array.from(expandHistogram({ values: [5, 7, 9], counts: [2, 0, 3] }))).toEqual([5, 5, 9, 9, 9]);
  });
});
