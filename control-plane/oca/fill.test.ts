import { describe, expect, it } from 'vitest';
import { createCatalog } from '../media/catalog.ts';
import type { Ladder, LadderFile } from '../media/ladder.ts';
import { planProactiveFill, predictRegionalPopularity } from './fill.ts';

function fakeLadder(id: string, segmentBytes: number[]): Ladder {
  const files = new Map<string, LadderFile>();
  segmentBytes.forEach((bytes, i) => {
    const path = `240p/seg_${i}.m4s`;
    files.set(path, { path, bytes, kind: 'segment', renditionId: '240p', contentType: 'video/iso.segment' });
  });
  const totalBytes = segmentBytes.reduce((a, b) => a + b, 0);
  return {
    id,
    dir: '/nowhere',
    spec: {} as Ladder['spec'],
    durationSec: 2 * segmentBytes.length,
    segmentDurationSec: 2,
    renditions: [],
    files,
    totalBytes,
  };
}

const big = fakeLadder('big', [400, 400]); // 800 bytes
const small = fakeLadder('small', [100]); // 100 bytes
const catalog = createCatalog([
  ['a', big],
  ['b', big],
  ['c', small],
  ['d', big],
]);

describe('planProactiveFill', () => {
  it('takes whole titles by predicted views while they fit, skipping what does not', () => {
    const plan = planProactiveFill(
      [
        { titleId: 'd', expectedViews: 1 },
        { titleId: 'a', expectedViews: 90 },
        { titleId: 'b', expectedViews: 50 },
        { titleId: 'c', expectedViews: 10 },
        { titleId: 'unknown', expectedViews: 70 },
        { titleId: 'zero', expectedViews: 0 },
      ],
      catalog,
      1_000,
    );
    // a (800) fits; unknown is not in the catalog; b (800) no longer fits; c (100) does; d does not.
    expect(plan.titles).toEqual(['a', 'c']);
    expect(plan.skipped).toEqual(['unknown', 'b', 'd']);
    expect(plan.bytes).toBe(900);
    // Least popular first, so an LRU evicts it first.
    expect(plan.objects.map((o) => `${o.titleId}:${o.path}`)).toEqual([
      'c:240p/seg_0.m4s',
      'a:240p/seg_0.m4s',
      'a:240p/seg_1.m4s',
    ]);
  });

  it('plans nothing for an empty budget', () => {
    expect(planProactiveFill([{ titleId: 'c', expectedViews: 5 }], catalog, 0).objects).toEqual([]);
  });
});

describe('predictRegionalPopularity', () => {
  it('weights views by 2^(-age / half-life), per region', () => {
    const hour = 3_600_000;
    const now = 100 * hour;
    const prediction = predictRegionalPopularity(
      [
        { region: 'eu', titleId: 'old-hit', bucketStartMs: now - 48 * hour, views: 400 }, // 400 / 4 = 100
        { region: 'eu', titleId: 'new', bucketStartMs: now - 1 * hour, views: 110 }, // 110 * 2^(-1/24) = 106.88
        { region: 'eu', titleId: 'new', bucketStartMs: now, views: 0 },
        { region: 'us', titleId: 'old-hit', bucketStartMs: now - 24 * hour, views: 10 }, // 5
      ],
      { nowMs: now, halfLifeHours: 24 },
    );
    expect(prediction.map((p) => p.region)).toEqual(['eu', 'us']);
    const eu = prediction[0]?.titles ?? [];
    expect(eu.map((t) => t.titleId)).toEqual(['new', 'old-hit']);
    expect(eu[0]?.expectedViews).toBeCloseTo(110 * 2 ** (-1 / 24), 9);
    expect(eu[1]?.expectedViews).toBeCloseTo(100, 9);
    expect(prediction[1]?.titles).toEqual([{ titleId: 'old-hit', expectedViews: 5 }]);
  });
});
