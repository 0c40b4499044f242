import { describe, expect, it } from 'vitest';
import { createRng, quantileConfidenceInterval } from '../stats/index.ts';
import { expandHistogram } from './evaluate.ts';
import { orderStatistic, quantileIntervalFromHistogram, ranked } from './order-statistics.ts';
import type { Histogram } from './queries.ts';

/** A histogram of n draws of a rounded log-normal (many ties, as play delays have). */
function histogram(seed: number, n: number, spread: number): Histogram {
  const rng = createRng(seed);
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const v = Math.round(Math.exp(6.9 + spread * rng.normal()) / 10) * 10;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const values = [...counts.keys()].sort((a, b) => a - b);
  return { values, counts: values.map((v) => counts.get(v) as number) };
}

describe('order statistics from a histogram', () => {
  it('reads x_(k) by rank', () => {
    const h = ranked({ values: [5, 7, 9], counts: [2, 1, 3] });
    expect([1, 2, 3, 4, 5, 6].map((k) => orderStatistic(h, k))).toEqual([5, 5, 7, 9, 9, 9]);
  });

  it('gives exactly what experiments/stats quantileConfidenceInterval gives on the expanded sample', () => {
    const cases: Array<[number, number, number]> = [
      [1, 7, 0.4],
      [2, 40, 0.3],
      [3, 999, 0.5],
      [4, 10_000, 0.2],
      [5, 200_000, 0.35],
    ];
    for (const [seed, n, spread] of cases) {
      const h = histogram(seed, n, spread);
      const sample = expandHistogram(h);
      for (const q of [0.01, 0.5, 0.9, 0.99]) {
        for (const alpha of [0.05, 0.01]) {
          expect(quantileIntervalFromHistogram(ranked(h), q, alpha)).toEqual(
            quantileConfidenceInterval(sample, q, { alpha, presorted: true }),
          );
        }
      }
    }
  });
});
