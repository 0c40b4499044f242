import { describe, expect, it } from 'vitest';
import {
  GROUP_SEQUENTIAL_MIN_GROWTH,
  type GroupSequentialConfig,
  type GroupSequentialLook,
  groupSequentialBoundaries,
  groupSequentialBoundaryCurve,
  groupSequentialExitProbabilities,
  groupSequentialInflationFactor,
  groupSequentialInformationFraction,
  groupSequentialInitialState,
  groupSequentialMaxInformation,
  groupSequentialRepeatedPValue,
  groupSequentialSequence,
  groupSequentialUpdate,
  lanDeMetsSpending,
  obrienFlemingConstantBoundary,
  pocockConstantBoundary,
  spendingBoundaries,
} from './group-sequential.ts';
import { normalCdf, normalQuantile } from './normal.ts';
import { expectClose } from './test-helpers.ts';

// Two kinds of reference values:
// - published tables, to the 3 decimals they print (|ours - table| <= 0.0005);
// - reference/generate.py: gsdesign 0.1.5 (a Python port of gsDesign's grid, the J&T ch. 19
//   recursion, independent of this code) with scipy brentq, and scipy's multivariate normal
//   CDF (Genz's algorithm, a different method) confirming that those boundaries spend
//   exactly alpha (|error| < 1e-6, the precision asked of it).

const equal = (k: number): number[] => Array.from({ length: k }, (_, i) => (i + 1) / k);
const zs = (points: readonly { zBoundary: number }[]): number[] => points.map((p) => p.zBoundary);

function expectTable(actual: number, published: number): void {
  expect(Math.abs(actual - published), `${actual} vs published ${published}`).toBeLessThanOrEqual(0.0005);
}

function expectAllClose(actual: readonly number[], expected: readonly number[], absolute: number): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    expectClose(a, expected[i] as number, 0, absolute);
  });
}

describe('Lan-DeMets spending functions', () => {
  it.each([
    // scipy: 2*stats.norm.cdf(-stats.norm.isf(0.025)/sqrt(t)), 0.05*np.log(1+(np.e-1)*t)
    [0.01, 1.5572210839553918e-85, 0.000851843161808822],
    [0.2, 1.172644684252109e-5, 0.014769726456017382],
    [0.5, 0.005574596680784402, 0.031005725347913876],
    [0.9, 0.03883004316452369, 0.046735083200058314],
  ])('at t = %f', (t, obf, pocock) => {
    expectClose(lanDeMetsSpending('obrien-fleming', 0.05, t), obf, 1e-13);
    expectClose(lanDeMetsSpending('pocock', 0.05, t), pocock, 1e-14);
  });

  it('spends nothing at 0 and all of alpha at 1 and beyond', () => {
    for (const kind of ['obrien-fleming', 'pocock'] as const) {
      expect(lanDeMetsSpending(kind, 0.05, 0)).toBe(0);
      expect(lanDeMetsSpending(kind, 0.05, 1)).toBe(0.05);
      expect(lanDeMetsSpending(kind, 0.05, 1.3)).toBe(0.05);
    }
  });
});

describe('constant-shape designs against the published tables', () => {
  it.each([
    // Pocock (1977) Table 1; Jennison & Turnbull (2000) Table 2.1, C_P(K, 0.05)
    [2, 2.178],
    [3, 2.289],
    [4, 2.361],
    [5, 2.413],
    [10, 2.555],
  ])("Pocock's constant boundary, K = %i: %f", (k, published) => {
    const c = pocockConstantBoundary(k, 0.05);
    expectTable(c, published);
    // and the value itself, from the gsdesign grid + brentq (generate.py)
    const reference: Record<number, number> = {
      2: 2.178272095529867,
      3: 2.289478076066903,
      4: 2.3612979176712052,
      5: 2.4131762618350994,
      10: 2.5550129072858234,
    };
    expectClose(c, reference[k] as number, 0, 1e-9);
  });

  it.each([
    // Jennison & Turnbull (2000) Table 2.3, C_B(K, 0.05); boundaries C_B·√(K/k)
    [2, 1.977],
    [3, 2.004],
    [4, 2.024],
    [5, 2.04],
    [10, 2.087],
  ])("O'Brien-Fleming's constant, K = %i: %f", (k, published) => {
    expectTable(obrienFlemingConstantBoundary(k, 0.05), published);
  });

  it('reduces to the fixed-horizon test with one look', () => {
    expectClose(pocockConstantBoundary(1, 0.05), 1.959963984540054, 1e-15);
    expectClose(obrienFlemingConstantBoundary(1, 0.05), 1.959963984540054, 1e-15);
  });

  it("gives O'Brien-Fleming's K = 4 boundaries (4.05, 2.86, 2.34, 2.02 as gsDesign's tests check them)", () => {
    // gsDesign inst/unitTests/runit.output.R, test.Deming.OFbound: gsDesign(k=4, test.type=2, sfu="OF")
    const c = obrienFlemingConstantBoundary(4, 0.05);
    const bounds = equal(4).map((t) => c / Math.sqrt(t));
    expect(bounds.map((b) => Math.round(b * 100) / 100)).toEqual([4.05, 2.86, 2.34, 2.02]);
  });

  it.each([
    // Armitage, McPherson & Rowe (1969), as quoted in Jennison & Turnbull (2000) ch. 1: repeated
    // two-sided tests at nominal 5%, K equally spaced looks. gsDesign's test.Deming.gsProb
    // checks the one-sided halves 0.042 (K = 2), 0.097 (K = 10), 0.124 (K = 20).
    [2, 0.083, 0.08311780449486869],
    [5, 0.142, 0.14168934488123994],
    [10, 0.193, 0.19335665530968282],
    [20, 0.248, 0.24791120756603865],
  ])('repeated 5%% significance tests at K = %i looks: type I error %f', (k, published, grid) => {
    const exits = groupSequentialExitProbabilities(
      equal(k).map((t) => ({ informationFraction: t, zBoundary: -normalQuantile(0.025) })),
    );
    const total = exits.reduce((a, e) => a + e.upper + e.lower, 0);
    expectTable(total, published);
    expectClose(total, grid, 0, 1e-11);
    // Symmetric under H0: each side carries half.
    for (const e of exits) expectClose(e.upper, e.lower, 1e-12);
  });

  it.each([
    // Jennison & Turnbull (2000) pp. 37-38, maximum sample size over the fixed design (R_P,
    // R_B), two-sided alpha 0.05; the values gsDesign's test.JT.Pocock and test.JT.OFss check.
    ['pocock', 4, 0.8, 1.202, 1.2024760208521668],
    ['pocock', 15, 0.9, 1.305, 1.3045340873165159],
    ['obrien-fleming', 5, 0.8, 1.028, 1.0284107446755373],
    ['obrien-fleming', 20, 0.9, 1.045, 1.0447034593943023],
  ] as const)('inflation factor, %s K = %i power %f: %f', (kind, k, power, published, grid) => {
    const c = kind === 'pocock' ? pocockConstantBoundary(k, 0.05) : obrienFlemingConstantBoundary(k, 0.05);
    const looks = equal(k).map((t) => ({
      informationFraction: t,
      zBoundary: kind === 'pocock' ? c : c / Math.sqrt(t),
    }));
    const r = groupSequentialInflationFactor(0.05, power, looks);
    expectTable(r, published);
    expectClose(r, grid, 0, 1e-8);
  });
});

describe('alpha-spending boundaries', () => {
  it.each([
    // generate.py: gsdesign grid + brentq; Genz: 1 - P(|Z_k| < b_k, all k) = 0.05 within 1e-6
    [
      'obrien-fleming',
      equal(5),
      [4.382612702882909, 3.0997265841870476, 2.5533550058081182, 2.2538480829019036, 2.0635013417604595],
    ],
    [
      'obrien-fleming',
      equal(10),
      [
        6.197950323045616, 4.382617572599536, 3.5818855801268534, 3.1188995797248307, 2.815549105084821,
        2.5996410810183037, 2.437055392872326, 2.3096136087406496, 2.2066988005002766, 2.1216621202161363,
      ],
    ],
    [
      'obrien-fleming',
      [0.15, 0.4, 0.55, 0.8, 1],
      [5.060605247526642, 3.099003359438358, 2.6729883994508916, 2.2371483557268093, 2.061263140060589],
    ],
    [
      'pocock',
      equal(5),
      [2.4379766880500116, 2.4268138713401837, 2.410193874739682, 2.396645464865661, 2.3859846704897114],
    ],
    [
      'pocock',
      equal(10),
      [
        2.6551100479684933, 2.623241963967406, 2.5896367123639648, 2.5620780476291825, 2.53974396105609,
        2.521394887542929, 2.5060677723949563, 2.4930663102377593, 2.481887442278456, 2.472162275442293,
      ],
    ],
    [
      'pocock',
      [0.15, 0.4, 0.55, 0.8, 1],
      [2.5281690342841268, 2.383379588725699, 2.4478669201119683, 2.3677107126898913, 2.3816021515023773],
    ],
  ] as const)('%s at t = %j', (spending, fractions, expected) => {
    const points = groupSequentialBoundaries({ alpha: 0.05, spending }, fractions);
    expectAllClose(zs(points), expected, 1e-9);
    // Each look spends exactly its increment of α(t), and the whole design spends alpha.
    const exits = groupSequentialExitProbabilities(points);
    let cumulative = 0;
    exits.forEach((e, k) => {
      cumulative += e.upper + e.lower;
      expectClose(cumulative, points[k]?.cumulativeAlpha ?? Number.NaN, 1e-9);
    });
    expectClose(cumulative, 0.05, 1e-10);
  });

  it("gsDesign's per-side convention gives its K = 5 O'Brien-Fleming bounds", () => {
    // sfLDOF at one-sided alpha/2 on each side: α(t) = 4 - 4Φ(z_{1-α/4}/√t). generate.py:
    // 4.876884948790762, 3.357011086838893, 2.680279588128741, 2.289816792856468, 2.0310322540997157
    const z = -normalQuantile(0.05 / 4);
    const cumulative = equal(5).map((t) => Math.min(0.05, 4 * normalCdf(-z / Math.sqrt(t))));
    expectAllClose(
      spendingBoundaries(equal(5), cumulative),
      [4.876884948790762, 3.357011086838893, 2.680279588128741, 2.289816792856468, 2.0310322540997157],
      1e-9,
    );
  });

  it('a boundary depends only on the looks so far, not on the looks still to come', () => {
    const design = { alpha: 0.05, spending: 'obrien-fleming' } as const;
    const full = zs(groupSequentialBoundaries(design, [0.15, 0.4, 0.55, 0.8, 1]));
    const sofar = zs(groupSequentialBoundaries(design, [0.15, 0.4, 0.55]));
    expect(sofar).toEqual(full.slice(0, 3));
  });

  it('spends exactly alpha at unplanned look times too (J&T ch. 7)', () => {
    for (const spending of ['obrien-fleming', 'pocock'] as const) {
      const points = groupSequentialBoundaries({ alpha: 0.05, spending }, [0.07, 0.33, 0.34, 0.61, 0.9, 1]);
      const total = groupSequentialExitProbabilities(points).reduce((a, e) => a + e.upper + e.lower, 0);
      expectClose(total, 0.05, 1e-10);
    }
  });

  it('reduces to the fixed-horizon test with one look', () => {
    const [only] = groupSequentialBoundaries({ alpha: 0.05, spending: 'pocock' }, [1]);
    expectClose(only?.zBoundary ?? Number.NaN, -normalQuantile(0.025), 1e-12);
  });

  it('inflates the sample size a little for spending designs (K = 10, 80% power)', () => {
    // generate.py: LD O'Brien-Fleming 1.0534222816743715, LD Pocock 1.2475031926669748
    for (const [spending, r] of [
      ['obrien-fleming', 1.0534222816743715],
      ['pocock', 1.2475031926669748],
    ] as const) {
      const looks = groupSequentialBoundaries({ alpha: 0.05, spending }, equal(10));
      expectClose(groupSequentialInflationFactor(0.05, 0.8, looks), r, 0, 1e-8);
    }
  });

  it('refuses fractions that do not increase, or looks after the final one', () => {
    const design = { alpha: 0.05, spending: 'pocock' } as const;
    expect(() => groupSequentialBoundaries(design, [0.5, 0.4, 1])).toThrow(/strictly increasing/);
    // A look must add 2% information: closer looks are beyond the grid and add nothing.
    expect(() => groupSequentialBoundaries(design, [0.5, 0.505, 1])).toThrow(/adds less than 2% information/);
    expect(groupSequentialBoundaries(design, [0.5, 0.51, 1])).toHaveLength(3);
    expect(() => groupSequentialBoundaries(design, [0.5, 1, 1.2])).toThrow(/ends the design/);
    expect(() => groupSequentialBoundaries(design, [])).toThrow(/at least one look/);
  });
});

// generate.py, monitor(...): the same steps with the gsdesign grid, scipy brentq and the
// J&T formulas (stagewise ordering ch. 8, repeated CIs ch. 9, repeated p-values ch. 9).
const effectLooks: GroupSequentialLook[] = [
  { control: { n: 200, mean: 10.0, variance: 1.0 }, treatment: { n: 200, mean: 10.21, variance: 1.1 } },
  { control: { n: 400, mean: 10.02, variance: 1.03 }, treatment: { n: 400, mean: 10.19, variance: 1.09 } },
  { control: { n: 600, mean: 10.01, variance: 1.01 }, treatment: { n: 600, mean: 10.2, variance: 1.05 } },
  {
    control: { n: 800, mean: 10.0, variance: 1.0 },
    treatment: { n: 800, mean: 10.16, variance: 1.12 },
    final: true,
  },
];
// Planned: 800 per cell at unit variances 1 and 1.1.
const maxInformation = groupSequentialMaxInformation({ control: 1, treatment: 1.1 }, 800, 800);

type Row = readonly [number, number, number, number, number, number, number, number, number, number];

function expectLooks(
  config: GroupSequentialConfig,
  looks: GroupSequentialLook[],
  rows: readonly Row[],
): void {
  const results = groupSequentialSequence(config, looks);
  rows.forEach(([t, d, v, z, b, rciLow, rciHigh, low, high, repeated], k) => {
    const r = results[k];
    if (r === undefined) throw new Error(`missing look ${k + 1}`);
    expect(r.looks).toBe(k + 1);
    expectClose(r.informationFraction, t, 1e-12);
    expectClose(r.difference, d, 1e-12);
    expectClose(r.variance, v, 1e-12);
    expectClose(r.z, z, 1e-12);
    expectClose(r.zBoundary, b, 0, 1e-9);
    expectClose(r.repeatedCi.lower, rciLow, 0, 1e-9);
    expectClose(r.repeatedCi.upper, rciHigh, 0, 1e-9);
    expectClose(r.ci.lower, low, 0, 1e-9);
    expectClose(r.ci.upper, high, 0, 1e-9);
    expect(r.crossed).toBe(Math.abs(z) >= b);
    expectClose(groupSequentialRepeatedPValue(r), repeated, 1e-7);
  });
}

describe('monitoring: boundaries, repeated CIs and p-values as data arrive', () => {
  it("O'Brien-Fleming spending crosses at look 3 (t = 0.76)", () => {
    const config = { alpha: 0.05, spending: 'obrien-fleming', maxInformation } as const;
    expectLooks(config, effectLooks, [
      [
        0.25, 0.21, 0.0105, 2.049390153191928, 3.9199279690801094, -0.19167308905271796, 0.6116730890527197,
        -0.19167308905271796, 0.6116730890527197, 0.30550708686125205,
      ],
      [
        0.49528301886792453, 0.17, 0.0053, 2.3351295871277125, 2.7871959159009707, -0.032910925507129374,
        0.37291092550712923, -0.032910925507129374, 0.37291092550712923, 0.10148474627598016,
      ],
      [
        0.7645631067961165, 0.19, 0.0034333333333333334, 3.242616706734865, 2.273762530483534,
        0.056769674043008644, 0.32323032595699036, 0.056769674043008644, 0.32323032595699036,
        0.004645646732615826,
      ],
      [
        0.990566037735849, 0.16, 0.0026500000000000004, 3.108114759543248, 2.0444408506190266,
        0.05475596578450838, 0.2652440342154919, 0.056769674043008644, 0.2652440342154919,
        0.002028007540921723,
      ],
    ]);
    const results = groupSequentialSequence(config, effectLooks);
    expect(results.map((r) => r.crossed)).toEqual([false, false, true, true]);
    expect(results.map((r) => r.rejected)).toEqual([false, false, true, true]);
    expect(results[3]?.rejectedAt).toBe(3);
    // Stagewise p on stopping at look 3, kept afterwards: generate.py 0.005920675914485895.
    expect(results[1]?.stagewisePValue).toBeNull();
    expectClose(results[2]?.stagewisePValue ?? Number.NaN, 0.005920675914485895, 1e-8);
    expect(results[3]?.stagewisePValue).toBe(results[2]?.stagewisePValue);
    // The final look (t = 0.99 marked final) spends all of alpha.
    expect(results[3]?.alphaSpent).toBe(0.05);
    expect(results[3]?.finished).toBe(true);
  });

  it('Pocock spending: nearly flat boundaries, same crossing look, a larger p on stopping', () => {
    const config = { alpha: 0.05, spending: 'pocock', maxInformation } as const;
    expectLooks(config, effectLooks, [
      [
        0.25, 0.21, 0.0105, 2.049390153191928, 2.368327703523905, -0.03268137375667532, 0.45268137375667705,
        -0.03268137375667532, 0.45268137375667705, 0.1131139286299258,
      ],
      [
        0.49528301886792453, 0.17, 0.0053, 2.3351295871277125, 2.3715409707437267, -0.002650788739453319,
        0.3426507887394532, -0.002650788739453319, 0.3426507887394532, 0.05477769529250164,
      ],
      [
        0.7645631067961165, 0.19, 0.0034333333333333334, 3.242616706734865, 2.3464425480310207,
        0.05251101365143632, 0.3274889863485627, 0.05251101365143632, 0.3274889863485627,
        0.0038385090432601116,
      ],
      [
        0.990566037735849, 0.16, 0.0026500000000000004, 3.108114759543248, 2.3513160933008583,
        0.03895859579411953, 0.28104140420588075, 0.05251101365143632, 0.28104140420588075,
        0.0038385090432578512,
      ],
    ]);
    const results = groupSequentialSequence(config, effectLooks);
    expectClose(results[2]?.stagewisePValue ?? Number.NaN, 0.03103839178699509, 1e-8);
  });

  it('a null effect never crosses; the overrunning final look spends the rest and reports p on stopping', () => {
    const config = {
      alpha: 0.05,
      spending: 'pocock',
      maxInformation: groupSequentialMaxInformation({ control: 2, treatment: 2.1 }, 1200, 1200),
    } as const;
    const looks: GroupSequentialLook[] = [
      { control: { n: 300, mean: 5.0, variance: 2.0 }, treatment: { n: 310, mean: 5.05, variance: 2.1 } },
      { control: { n: 700, mean: 5.01, variance: 2.05 }, treatment: { n: 690, mean: 5.03, variance: 2.0 } },
      { control: { n: 1300, mean: 5.0, variance: 2.0 }, treatment: { n: 1310, mean: 5.06, variance: 2.1 } },
    ];
    expectLooks(config, looks, [
      [
        0.2542, 0.05, 0.013440860215053765, 0.43127717305695495, 2.363147070906159, -0.22397080329522473,
        0.3239708032952244, -0.22397080329522473, 0.3239708032952244, 1,
      ],
      [
        0.5863386036596199, 0.02, 0.005827122153209109, 0.2620009913203321, 2.303983410511378,
        -0.15587593076657408, 0.195875930766575, -0.15587593076657408, 0.195875930766575, 1,
      ],
      [
        1.0875856697819313, 0.06, 0.0031415149735760425, 1.0704877043822736, 2.278538815821353,
        -0.06771032155681858, 0.1877103215568178, -0.06771032155681858, 0.1877103215568178,
        0.4389914631751885,
      ],
    ]);
    const results = groupSequentialSequence(config, looks);
    expect(results.some((r) => r.rejected)).toBe(false);
    expect(results[2]?.finished).toBe(true);
    expectClose(results[2]?.stagewisePValue ?? Number.NaN, 0.29345015120911855, 1e-8);
    expect(() =>
      groupSequentialUpdate(
        config,
        results[2] as NonNullable<(typeof results)[2]>,
        looks[2] as GroupSequentialLook,
      ),
    ).toThrow(/design ended at look 3/);
  });
});

describe('monitoring: inputs and guards', () => {
  const config: GroupSequentialConfig = { alpha: 0.05, spending: 'obrien-fleming', maxInformation: 400 };

  it('takes summaries, an estimate with its variance, or a z-statistic with its information alike', () => {
    const fromSummaries = groupSequentialUpdate(config, groupSequentialInitialState(config), {
      control: { n: 500, mean: 3, variance: 4 },
      treatment: { n: 500, mean: 3.3, variance: 5 },
    });
    const v = 4 / 500 + 5 / 500;
    const fromEstimate = groupSequentialUpdate(config, groupSequentialInitialState(config), {
      difference: 0.3,
      variance: v,
    });
    const fromZ = groupSequentialUpdate(config, groupSequentialInitialState(config), {
      z: 0.3 / Math.sqrt(v),
      information: 1 / v,
    });
    for (const r of [fromEstimate, fromZ]) {
      expectClose(r.z, fromSummaries.z, 1e-12);
      expectClose(r.zBoundary, fromSummaries.zBoundary, 1e-12);
      expectClose(r.informationFraction, fromSummaries.informationFraction, 1e-12);
    }
    expectClose(fromSummaries.boundary, fromSummaries.zBoundary * Math.sqrt(v), 1e-14);
  });

  it('uses an explicit information fraction (n_k / n_max) when the look gives one', () => {
    const r = groupSequentialUpdate(
      { alpha: 0.05, spending: 'obrien-fleming' },
      groupSequentialInitialState(config),
      { difference: 0.1, variance: 0.01, informationFraction: 0.2 },
    );
    expectClose(r.zBoundary, 4.382612702882909, 0, 1e-9);
  });

  it('tests against a non-zero null difference', () => {
    const r = groupSequentialUpdate({ ...config, nullDifference: 0.1 }, groupSequentialInitialState(config), {
      difference: 0.3,
      variance: 0.004,
    });
    expectClose(r.z, 0.2 / Math.sqrt(0.004), 1e-12);
    // The repeated CI is centred on the estimate, not on θ₀.
    expectClose((r.repeatedCi.lower + r.repeatedCi.upper) / 2, 0.3, 1e-12);
  });

  it('refuses shrinking information, a changed design, and looks without a fraction', () => {
    const first = groupSequentialUpdate(config, groupSequentialInitialState(config), {
      difference: 0,
      variance: 0.01,
    });
    expect(() => groupSequentialUpdate(config, first, { difference: 0, variance: 0.02 })).toThrow(
      /information must grow/,
    );
    // t = 0.25, then 0.2525: 1% more information, below GROUP_SEQUENTIAL_MIN_GROWTH.
    const tooClose = { difference: 0, variance: 0.01 / 1.01 };
    expect(groupSequentialInformationFraction(config, tooClose)).toBeLessThan(
      first.informationFraction * (1 + GROUP_SEQUENTIAL_MIN_GROWTH),
    );
    expect(() => groupSequentialUpdate(config, first, tooClose)).toThrow(/skip it/);
    expect(() =>
      groupSequentialUpdate({ ...config, spending: 'pocock' }, first, { difference: 0, variance: 0.005 }),
    ).toThrow(/design changed/);
    expect(() =>
      groupSequentialUpdate(
        { alpha: 0.05, spending: 'obrien-fleming' },
        groupSequentialInitialState(config),
        {
          difference: 0,
          variance: 0.01,
        },
      ),
    ).toThrow(/informationFraction/);
    expect(() => groupSequentialInitialState({ alpha: 0.05, spending: 'linear' as 'pocock' })).toThrow(
      /spending/,
    );
  });

  it('gives p = 1 before any look and keeps the repeated p-value non-increasing', () => {
    expect(groupSequentialRepeatedPValue(groupSequentialInitialState(config))).toBe(1);
    const results = groupSequentialSequence(
      { alpha: 0.05, spending: 'obrien-fleming', maxInformation },
      effectLooks,
    );
    const ps = results.map((r) => groupSequentialRepeatedPValue(r));
    for (let k = 1; k < ps.length; k++) expect(ps[k] as number).toBeLessThanOrEqual(ps[k - 1] as number);
    // <= alpha exactly when the boundary has been crossed.
    results.forEach((r, k) => {
      expect((ps[k] as number) <= 0.05).toBe(r.rejected);
    });
  });

  it('plots the boundary at planned cell sizes', () => {
    const curveConfig = {
      alpha: 0.05,
      spending: 'obrien-fleming',
      maxInformation: groupSequentialMaxInformation({ control: 4, treatment: 4 }, 1000, 1000),
    } as const;
    const curve = groupSequentialBoundaryCurve(
      curveConfig,
      { control: 4, treatment: 4 },
      [200, 400, 600, 800, 1000].map((n) => ({ nControl: n, nTreatment: n })),
    );
    expectAllClose(
      curve.map((p) => p.informationFraction),
      equal(5),
      1e-12,
    );
    expectAllClose(
      curve.map((p) => p.zBoundary),
      [4.382612702882909, 3.0997265841870476, 2.5533550058081182, 2.2538480829019036, 2.0635013417604595],
      1e-9,
    );
    curve.forEach((p) => {
      expectClose(p.boundary, p.zBoundary * Math.sqrt(8 / p.nControl), 1e-13);
    });
    expect(curve[4]?.cumulativeAlpha).toBe(0.05);
  });
});
