import { describe, expect, it } from 'vitest';
import { binomialCdf, binomialQuantile, binomialSf, binomialUpperQuantile } from './binomial.ts';
import { expectClose } from './test-helpers.ts';

// Reference values: scipy 1.17.1 stats.binom, produced by reference/generate.py.

describe('binomial distribution', () => {
  it.each([
    // stats.binom.cdf(k, n, p), stats.binom.sf(k, n, p)
    [3, 10, 0.5, 0.171875, 0.828125],
    [40, 100, 0.5, 0.028443966820490444, 0.9715560331795096],
    [85, 100, 0.9, 0.07257296526488066, 0.9274270347351193],
    [0, 20, 0.05, 0.3584859224085422, 0.6415140775914578],
    [950, 1000, 0.9, 0.9999999972132897, 2.7867103024608576e-9],
  ])('P(X <= %d | n=%d, p=%d) matches scipy binom.cdf and sf', (k, n, p, cdf, sf) => {
    expectClose(binomialCdf(k, n, p), cdf, 1e-12);
    expectClose(binomialSf(k, n, p), sf, 1e-11);
  });

  it.each([
    // stats.binom.ppf(q, n, p), stats.binom.isf(q, n, p)
    [0.025, 100, 0.5, 40, 60],
    [0.025, 100, 0.9, 84, 95],
    [0.005, 1000, 0.99, 981, 997],
    [0.025, 20, 0.05, 0, 3],
  ])('quantiles at %d for n=%d, p=%d match scipy binom.ppf and isf', (q, n, p, ppf, isf) => {
    expect(binomialQuantile(q, n, p)).toBe(ppf);
    expect(binomialUpperQuantile(q, n, p)).toBe(isf);
  });

  it('handles the support edges', () => {
    expect(binomialCdf(-1, 10, 0.3)).toBe(0);
    expect(binomialCdf(10, 10, 0.3)).toBe(1);
    expect(binomialSf(10, 10, 0.3)).toBe(0);
    expect(() => binomialCdf(1, 2.5, 0.3)).toThrow(/integer/);
  });
});
