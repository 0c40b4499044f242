/**
 * The hash spreads units evenly, the cells split as their weights say, and the three
 * salted hashes (layer, traffic, cell) are independent of one another: Pearson chi-square
 * tests over 1,000,000 ids. Sequential ids (`viewer-0`, `viewer-1`, ...) are the hard case
 * for weak hashes: they differ in their last bytes only.
 *
 * The ids are fixed, so each test is deterministic: a p-value below the threshold would
 * fail every run, never intermittently. Thresholds are 0.001. The first four p-values are
 * also pinned to an independent computation (PyPI mmh3 5.3.1 for the buckets, scipy 1.17.1
 * for the tests), run as:
 *   python3 -c "import mmh3, numpy as np; from scipy import stats; ...
 *     cell = [mmh3.hash(f'distribution-check-v1:viewer-{i}'.encode(), 0, signed=False) % 10000
 *             for i in range(1000000)]
 *     stats.chisquare(np.bincount(cell, minlength=10000)).pvalue            # 0.106234995259534
 *     stats.chisquare([n < 2000, 2000 <= n < 5000, n >= 5000 counts],
 *                     [200000, 300000, 500000]).pvalue                      # 0.5530791459317874
 *     stats.chi2_contingency(deciles(traffic, cell), correction=False).pvalue  # 0.6326981400180665
 *     stats.chi2_contingency(deciles(layer, cell), correction=False).pvalue    # 0.15900278309735524"
 */
import { describe, expect, it } from 'vitest';
import { BUCKETS } from '../definitions/vocabulary.ts';
import { type AssignableExperiment, assign } from './assign.ts';
import { bucketOf, saltFor } from './hash.ts';
import { chiSquareGoodnessOfFit, chiSquareIndependence } from './testing/chi-square.ts';

const N = 1_000_000;
const SEED = 'distribution-check-v1';
const ids = Array.from({ length: N }, (_, i) => `viewer-${i}`);
const cellBuckets = Int32Array.from(ids, (id) => bucketOf(1, saltFor(1, 'cell', SEED), id));
const scipy = (actual: number, expected: number) =>
  expect(Math.abs(actual - expected)).toBeLessThan(expected * 1e-9);
const trafficBuckets = Int32Array.from(ids, (id) => bucketOf(1, saltFor(1, 'traffic', SEED), id));

describe('bucket distribution over 1,000,000 sequential ids', () => {
  it('is uniform over the 10,000 buckets', () => {
    const counts = new Float64Array(BUCKETS);
    for (const b of cellBuckets) counts[b] = (counts[b] as number) + 1;
    const r = chiSquareGoodnessOfFit(counts, new Float64Array(BUCKETS).fill(N / BUCKETS));
    expect(r.df).toBe(9999);
    expect(r.pValue).toBeGreaterThan(0.001);
    scipy(r.pValue, 0.106234995259534);
  });

  it('splits cells as their weights say (2000/3000/5000 basis points)', () => {
    const weights = [2000, 3000, 5000];
    const counts = [0, 0, 0];
    for (const b of cellBuckets) {
      const cell = b < 2000 ? 0 : b < 5000 ? 1 : 2;
      counts[cell] = (counts[cell] as number) + 1;
    }
    const r = chiSquareGoodnessOfFit(
      counts,
      weights.map((w) => (N * w) / BUCKETS),
    );
    expect(r.pValue).toBeGreaterThan(0.001);
    scipy(r.pValue, 0.5530791459317874);
  });

  /** 10 x 10 table of bucket deciles, one hash against another. */
  function decileTable(rows: Int32Array, cols: Int32Array): number[][] {
    const table = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
    for (let i = 0; i < N; i++) {
      const row = table[Math.floor((rows[i] as number) / 1000)] as number[];
      const col = Math.floor((cols[i] as number) / 1000);
      row[col] = (row[col] as number) + 1;
    }
    return table;
  }

  it('keeps the traffic decision independent of the cell (different salts)', () => {
    const r = chiSquareIndependence(decileTable(trafficBuckets, cellBuckets));
    expect(r.df).toBe(81);
    expect(r.pValue).toBeGreaterThan(0.001);
    scipy(r.pValue, 0.6326981400180665);
  });

  it('keeps the layer position independent of the cell (namespace salt)', () => {
    const layerBuckets = Int32Array.from(ids, (id) =>
      bucketOf(1, saltFor(1, 'layer', 'distribution-ns'), id),
    );
    const r = chiSquareIndependence(decileTable(layerBuckets, cellBuckets));
    expect(r.pValue).toBeGreaterThan(0.001);
    scipy(r.pValue, 0.15900278309735524);
  });

  it('gives the cells their weights through assign(), among units in traffic', () => {
    // Frozen, as loadExperiments returns definitions: its digest is then computed once.
    const experiment: AssignableExperiment = Object.freeze({
      key: 'split-check',
      status: 'running',
      unit: 'viewer',
      seed: SEED,
      hashVersion: 1,
      namespace: { name: 'split-check', range: { start: 0, end: 10000 } },
      targeting: { deviceClasses: [], countries: [], isps: [] },
      trafficShare: 0.25,
      cells: [
        { name: 'control', control: true, weight: 1000, config: { abr: { startLevel: -1 } } },
        { name: 'low', control: false, weight: 4500, config: { abr: { startLevel: 0 } } },
        { name: 'high', control: false, weight: 4500, config: { abr: { startLevel: 3 } } },
      ],
    });
    const counts = new Map<string, number>([
      ['control', 0],
      ['low', 0],
      ['high', 0],
      ['out', 0],
    ]);
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const [a] = assign([experiment], {
        viewerId: ids[i] as string,
        sessionId: null,
        deviceClass: 'tv',
        country: 'DE',
        isp: null,
      });
      const key = a?.inExperiment ? a.cell : 'out';
      counts.set(key, (counts.get(key) as number) + 1);
    }
    const inTraffic = n - (counts.get('out') as number);
    // Share in traffic: binomial(n, 0.25) against the chi-square with 1 df.
    const share = chiSquareGoodnessOfFit([inTraffic, n - inTraffic], [n * 0.25, n * 0.75]);
    expect(share.pValue).toBeGreaterThan(0.001); // 0.910 when written
    const split = chiSquareGoodnessOfFit(
      [counts.get('control') as number, counts.get('low') as number, counts.get('high') as number],
      [0.1, 0.45, 0.45].map((w) => inTraffic * w),
    );
    expect(split.pValue).toBeGreaterThan(0.001); // 0.852 when written
  });
});
