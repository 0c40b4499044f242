import { describe, expect, it } from 'vitest';
import { createRng } from './prng.ts';
import {
  maritzJarrettStandardError,
  quantileConfidenceInterval,
  quantileDifference,
  quantileDifferenceOrdered,
  sampleQuantile,
} from './quantiles.ts';
import { expectClose } from './test-helpers.ts';

// Reference values: reference/generate.py with scipy 1.17.1 and numpy 2.4.6. A and B are
// play delays in ms: numpy default_rng(20240601).lognormal(7.0, 0.6, 60) and (6.9, 0.6, 75), rounded to 0.1.
const A = [
  1617.7, 1453.3, 745.6, 540.8, 1005.4, 2257.6, 2441.0, 1891.2, 1350.1, 2864.1, 2297.8, 960.8, 579.9, 881.2,
  852.3, 1656.6, 350.9, 977.7, 2989.1, 631.3, 695.7, 1042.6, 468.4, 1014.6, 1086.4, 1093.6, 606.0, 880.5,
  1623.4, 714.3, 1522.8, 1625.1, 465.8, 744.6, 1624.9, 1474.5, 1221.2, 889.7, 1170.4, 3377.4, 960.2, 1552.8,
  854.0, 973.6, 1617.8, 628.0, 948.2, 760.4, 655.1, 1218.6, 2307.4, 1252.4, 872.1, 459.1, 1792.5, 1244.2,
  750.9, 1838.8, 2820.1, 412.0,
];
const B = [
  1414.0, 1648.3, 1405.7, 2594.3, 1444.1, 577.0, 9701.9, 1083.2, 2414.5, 3228.2, 1683.9, 337.4, 357.0, 660.8,
  1012.8, 431.3, 565.5, 759.7, 746.2, 1111.2, 1036.4, 969.5, 685.0, 602.2, 315.3, 2122.8, 1115.8, 1238.6,
  354.1, 1557.3, 941.2, 1774.0, 657.4, 1806.3, 2353.5, 896.3, 826.6, 780.4, 1076.4, 5135.8, 964.4, 1466.1,
  407.7, 245.5, 1092.7, 935.2, 2062.1, 244.7, 1273.7, 346.5, 2849.1, 1566.2, 552.1, 1537.4, 1693.6, 1065.0,
  2505.8, 1780.4, 946.4, 764.4, 1542.4, 688.1, 205.7, 794.9, 349.3, 1826.0, 1056.9, 1409.9, 2005.9, 972.7,
  982.0, 1297.8, 4159.7, 875.6, 772.8,
];
/** x_i = (i * 7919 mod 10007) / 10, integer arithmetic, identical in numpy. */
function deterministic(n: number): number[] {
  return Array.from({ length: n }, (_, k) => (((k + 1) * 7919) % 10007) / 10);
}

describe('sample quantile', () => {
  it.each([
    // np.quantile(data, q, method='inverted_cdf')
    [A, 0.5, 1014.6],
    [A, 0.9, 2297.8],
    [B, 0.5, 1056.9],
    [B, 0.9, 2414.5],
    [deterministic(1000), 0.99, 990.1],
  ])('matches numpy inverted_cdf (case %#)', (data, q, expected) => {
    expect(sampleQuantile(data, q).estimate).toBe(expected);
  });
});

describe('exact order-statistic interval', () => {
  it.each([
    // stats.quantile_test(data, q=..., p=q).confidence_interval(0.95)
    [A, 0.5, 881.2, 1350.1],
    [A, 0.9, 1656.6, 2989.1],
    [B, 0.5, 935.2, 1297.8],
    [B, 0.9, 1806.3, 4159.7],
    [deterministic(1000), 0.99, 983.3, 996.8],
  ])('matches scipy quantile_test(...).confidence_interval (case %#)', (data, q, lower, upper) => {
    const r = quantileConfidenceInterval(data, q);
    expect(r.ci).toEqual({ lower, upper });
    expect(r.coverage).toBeGreaterThanOrEqual(0.95);
  });

  it('is one-sided when the sample is too small for the level', () => {
    // n = 10, q = 0.9: P(B <= 9) = 1 - 0.9^10 = 0.651 < 0.975, so no order statistic bounds it above.
    const r = quantileConfidenceInterval([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9);
    expect(r.ci.upper).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isFinite(r.ci.lower)).toBe(true);
  });
});

describe('Maritz-Jarrett standard error (exact bootstrap)', () => {
  it.each([
    // numpy on the same rule: weights stats.beta.cdf(j/n, m, n-m+1) - stats.beta.cdf((j-1)/n, m, n-m+1),
    // m = ceil(n q); se = sqrt(Σ w (x - Σ w x)²)
    [A, 0.5, 99.50459288777472],
    [A, 0.9, 316.8304731550787],
    [B, 0.5, 84.11162891655745],
    [B, 0.9, 366.67053805532095],
  ])('matches the scipy beta weights (case %#)', (data, q, expected) => {
    expectClose(maritzJarrettStandardError(data, q), expected, 1e-10);
  });

  it.each([
    // Brute force, no formula: np.std of the q-quantile over all 5^5 = 3125 resamples (itertools.product)
    [0.5, 1.0999738229903473],
    [0.9, 1.443015500756662],
  ])('equals the bootstrap sd over every resample of a 5-point sample (q=%d)', (q, expected) => {
    expectClose(maritzJarrettStandardError([3.1, 0.4, 2.2, 5.9, 1.7], q), expected, 1e-12);
  });

  it.each([
    // the scipy beta-weight rule on x_i = (i*7919 mod 10007)/10, n = 200,000 (Simpson path here)
    [0.5, 1.1198489020219844],
    [0.99, 0.2244038610451075],
  ])('matches scipy on 200,000 observations at q=%d', (q, expected) => {
    expectClose(maritzJarrettStandardError(deterministic(200_000), q), expected, 1e-9);
  });
});

describe('difference of two quantiles', () => {
  it.each([
    // numpy: diff = q_B - q_A, se = hypot(se_A, se_B), diff ± stats.norm.ppf(0.975) se, p = 2 stats.norm.sf(|diff/se|)
    [0.5, 42.30000000000007, 130.29171165027518, -213.06706231861705, 297.6670623186172, 0.7454413573916145],
    [0.9, 116.69999999999982, 484.5914074738115, -833.0817058662446, 1066.4817058662443, 0.8096935127539839],
  ])('B - A at q=%d matches the numpy computation', (q, diff, se, lower, upper, p) => {
    const r = quantileDifference(A, B, q);
    expectClose(r.difference, diff, 1e-12);
    expectClose(r.standardError, se, 1e-10);
    expectClose(r.ci.lower, lower, 1e-10);
    expectClose(r.ci.upper, upper, 1e-10);
    expectClose(r.pValue, p, 1e-9);
  });

  it('covers the true difference of lognormal p90s about 95% of the time (seeded simulation)', () => {
    // Play delay ~ lognormal(7, 0.6) in control and lognormal(6.95, 0.6) in treatment; the
    // true p90 difference is exp(6.95 + 0.6 z) - exp(7 + 0.6 z) with z = Φ⁻¹(0.9) = 1.2815515655446004.
    const z90 = 1.2815515655446004;
    const truth = Math.exp(6.95 + 0.6 * z90) - Math.exp(7 + 0.6 * z90);
    const rng = createRng(90);
    const reps = 400;
    const n = 800;
    let covered = 0;
    for (let r = 0; r < reps; r++) {
      const c = Float64Array.from({ length: n }, () => Math.exp(7 + 0.6 * rng.normal()));
      const t = Float64Array.from({ length: n }, () => Math.exp(6.95 + 0.6 * rng.normal()));
      const d = quantileDifference(c, t, 0.9);
      if (d.ci.lower <= truth && truth <= d.ci.upper) covered++;
    }
    // Binomial sd of the coverage over 400 reps is 1.1 points: [91%, 98.5%] is about ±3 sd.
    expect(covered / reps).toBeGreaterThan(0.91);
    expect(covered / reps).toBeLessThan(0.985);
  });

  it('gives the same result from order statistics (a histogram read by rank) as from the sample, to the bit', () => {
    // Integer play delays with many ties, as a histogram holds them; the two sample sizes put
    // the Maritz-Jarrett weights on both of its branches (incomplete beta, and Simpson).
    const rng = createRng(2026);
    for (const n of [60, 50_000]) {
      const c = Float64Array.from(
        { length: n },
        () => Math.round(Math.exp(6.9 + 0.5 * rng.normal()) / 10) * 10,
      );
      const t = Float64Array.from(
        { length: n + 7 },
        () => Math.round(Math.exp(6.85 + 0.5 * rng.normal()) / 10) * 10,
      );
      c.sort();
      t.sort();
      for (const q of [0.5, 0.9, 0.99]) {
        const fromSample = quantileDifference(c, t, q, { alpha: 0.05 });
        const fromOrdered = quantileDifferenceOrdered(
          { n: c.length, at: (k) => c[k - 1] as number },
          { n: t.length, at: (k) => t[k - 1] as number },
          q,
          { alpha: 0.05 },
        );
        expect(fromOrdered).toEqual(fromSample);
      }
    }
  });
});
