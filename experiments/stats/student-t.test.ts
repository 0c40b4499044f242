import { describe, expect, it } from 'vitest';
import { studentTCdf, studentTPdf, studentTQuantile, studentTSf, studentTTwoSidedP } from './student-t.ts';
import { expectClose } from './test-helpers.ts';

// Reference values: scipy 1.17.1 stats.t, produced by reference/generate.py.

describe('studentTCdf with fractional degrees of freedom', () => {
  it.each([
    // stats.t.cdf(t, df)
    [-2.4376, 17.3, 0.012925097171128564],
    [1.0, 2.5, 0.7979694863608632],
    [-0.2, 0.7, 0.44199766927095957],
    [3.0, 1.0, 0.8975836176504333],
    [-8.0, 4.2, 0.0005380586837255446],
    [2.0, 1e6, 0.9772497330743404],
    [-6.0, 30.0, 6.971384383602382e-7],
    [0.001, 5.5, 0.5003813064403253],
    [-4.0, 5e7, 3.1671287335419925e-5],
  ])('P(T <= %d | ν=%d) matches scipy stats.t.cdf', (t, df, expected) => {
    expectClose(studentTCdf(t, df), expected, 1e-12);
  });

  it.each([
    // stats.t.sf(t, df)
    [40.0, 3.0, 1.7190340394579253e-5],
    [12.0, 25.5, 2.7384457998002023e-12],
  ])('P(T > %d | ν=%d) matches scipy stats.t.sf', (t, df, expected) => {
    expectClose(studentTSf(t, df), expected, 1e-12);
  });

  it('two-sided p is twice the tail', () => {
    // 2 * stats.t.cdf(-2.4376, 17.3) = 0.02585019434225713
    expectClose(studentTTwoSidedP(-2.4376, 17.3), 0.02585019434225713, 1e-12);
    expectClose(studentTTwoSidedP(2.4376, 17.3), 0.02585019434225713, 1e-12);
  });

  it('density matches scipy stats.t.pdf(1.3, 7.7)', () => {
    expectClose(studentTPdf(1.3, 7.7), 0.16292502495695982, 1e-13);
  });

  it('is the normal at infinite degrees of freedom', () => {
    // stats.norm.cdf(-1.96)
    expectClose(studentTCdf(-1.96, Number.POSITIVE_INFINITY), 0.024997895148220435, 1e-14);
  });
});

describe('studentTQuantile', () => {
  it.each([
    // stats.t.ppf(p, df)
    [0.975, 17.3, 2.1070320037534676],
    [0.975, 2.5, 3.5746548420036817],
    [0.025, 1.0, -12.706204736174705],
    [0.95, 0.7, 13.587121347511157],
    [0.999999, 4.2, 36.66993011861794],
    [0.6, 1e6, 0.25334717053784184],
    [0.5000001, 9.0, 2.577087722747703e-7],
    [1e-12, 12.5, -26.82095070872803],
    [0.975, 1e9, 1.959963986912325],
    [0.001, 5e7, -3.090232469170402],
  ])('t_{%d}(ν=%d) matches scipy stats.t.ppf', (p, df, expected) => {
    // 0.999999 and 0.5000001 carry ~1e-16 of representation error in p itself.
    expectClose(studentTQuantile(p, df), expected, 1e-9);
  });

  it('is 0 at one half and refuses bad input', () => {
    expect(studentTQuantile(0.5, 3)).toBe(0);
    expect(() => studentTQuantile(0.5, 0)).toThrow(/degrees of freedom/);
  });
});
