import { describe, expect, it } from 'vitest';
import type { OcaHealthView, RankInput } from './ranking.ts';
import { proximityOf, rankOcas, rendezvousUniform } from './ranking.ts';
import { fakeOcas } from './testing.ts';

const ocas = fakeOcas();
const viewer = { isp: 'AS3320', region: 'eu-central' };

function input(overrides: Partial<RankInput> = {}, health: Record<string, OcaHealthView> = {}): RankInput {
  return {
    titleId: 'title-001',
    viewer,
    policy: 'health-weighted',
    ocas,
    holds: () => true,
    health: (id) => health[id],
    ...overrides,
  };
}

const ids = (r: ReturnType<typeof rankOcas>): string[] => r.ranked.map((x) => x.oca.id);

describe('proximity', () => {
  it('orders same-ISP edge, same-region edge, region storage, other storage, other edges', () => {
    const [storageEu, storageUs, edgeA] = ocas as [
      (typeof ocas)[number],
      (typeof ocas)[number],
      (typeof ocas)[number],
    ];
    expect(proximityOf(edgeA, viewer)).toBe('isp-edge');
    expect(proximityOf(edgeA, { isp: 'AS64496', region: 'eu-central' })).toBe('region-edge');
    expect(proximityOf(edgeA, { isp: null, region: null })).toBe('remote-edge');
    expect(proximityOf(storageEu, viewer)).toBe('region-storage');
    expect(proximityOf(storageUs, viewer)).toBe('remote-storage');
  });

  it('ranks by proximity when every OCA is healthy', () => {
    const r = rankOcas(input());
    expect(r.ranked.map((x) => x.proximity)).toEqual([
      'isp-edge',
      'isp-edge',
      'region-storage',
      'remote-storage',
      'remote-edge',
      'remote-edge',
    ]);
    expect(ids(r).slice(2, 4)).toEqual(['oca-storage-eu-central', 'oca-storage-us-east']);
    // A viewer of another ISP in the region: the region's edges are still nearer than storage.
    const other = rankOcas(input({ viewer: { isp: 'AS64496', region: 'eu-central' } }));
    expect(other.ranked.slice(0, 3).map((x) => x.proximity)).toEqual([
      'region-edge',
      'region-edge',
      'region-storage',
    ]);
  });
});

describe('health', () => {
  it('puts a degraded edge below healthy storage under health-weighted, not under proximity-only', () => {
    const health = {
      'oca-edge-as3320-a': { state: 'degraded', score: 0.3 },
      'oca-edge-as3320-b': { state: 'degraded', score: 0.4 },
    } as const;
    const weighted = rankOcas(input({}, health));
    expect(ids(weighted)[0]).toBe('oca-storage-eu-central');
    expect(weighted.ranked[0]?.healthKnown).toBe(false);
    expect(ids(weighted).indexOf('oca-edge-as3320-a')).toBeGreaterThan(
      ids(weighted).indexOf('oca-storage-us-east'),
    );
    const proximity = rankOcas(input({ policy: 'proximity-only' }, health));
    expect(proximity.ranked.slice(0, 2).map((x) => x.proximity)).toEqual(['isp-edge', 'isp-edge']);
  });

  it('excludes drained OCAs under both policies, unless nothing else holds the title', () => {
    const health = { 'oca-edge-as3320-a': { state: 'drained', score: 0 } } as const;
    for (const policy of ['health-weighted', 'proximity-only'] as const) {
      const r = rankOcas(input({ policy }, health));
      expect(ids(r)).not.toContain('oca-edge-as3320-a');
      expect(r.excluded).toContainEqual({ oca: ocas[2], reason: 'drained' });
      expect(r.lastResort).toBe(false);
    }
    const onlyDrained = rankOcas(
      input(
        { holds: (o) => o.id === 'oca-edge-as3320-a' },
        { 'oca-edge-as3320-a': { state: 'drained', score: 0 } },
      ),
    );
    expect(ids(onlyDrained)).toEqual(['oca-edge-as3320-a']);
    expect(onlyDrained.lastResort).toBe(true);
  });
});

describe('availability', () => {
  it('ranks only OCAs that hold the title', () => {
    const r = rankOcas(input({ holds: (o) => o.tier === 'storage' || o.id === 'oca-edge-as3320-b' }));
    expect(ids(r)[0]).toBe('oca-edge-as3320-b');
    expect(ids(r)).not.toContain('oca-edge-as3320-a');
    expect(r.excluded.map((e) => [e.oca.id, e.reason])).toContainEqual([
      'oca-edge-as3320-a',
      'not-holding-title',
    ]);
  });
});

describe('rendezvous tie-break', () => {
  it('is deterministic per title and spreads titles over equal OCAs in proportion to score', () => {
    const health = {
      'oca-edge-as3320-a': { state: 'healthy', score: 0.9 },
      'oca-edge-as3320-b': { state: 'healthy', score: 0.3 },
    } as const;
    expect(ids(rankOcas(input({}, health)))).toEqual(ids(rankOcas(input({}, health))));
    let aFirst = 0;
    let aFirstUnweighted = 0;
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      const titleId = `title-${i}`;
      if (rankOcas(input({ titleId }, health)).ranked[0]?.oca.id === 'oca-edge-as3320-a') aFirst++;
      if (
        rankOcas(input({ titleId, policy: 'proximity-only' }, health)).ranked[0]?.oca.id ===
        'oca-edge-as3320-a'
      ) {
        aFirstUnweighted++;
      }
    }
    // Weighted HRW by -w/ln(u): -ln(u)/w is Exp(w), and the smallest of independent
    // exponentials is i with probability w_i / sum(w) (Schindelhauer & Schomaker 2005).
    // 0.9 / 1.2 = 0.75; binomial sd at n = 10,000 is 0.0043, so +-0.015 is 3.5 sd.
    expect(aFirst / n).toBeGreaterThan(0.735);
    expect(aFirst / n).toBeLessThan(0.765);
    // Unweighted: an even split.
    expect(aFirstUnweighted / n).toBeGreaterThan(0.485);
    expect(aFirstUnweighted / n).toBeLessThan(0.515);
  });

  it('draws uniforms in (0, 1)', () => {
    for (let i = 0; i < 1_000; i++) {
      const u = rendezvousUniform(`t${i}`, 'oca');
      expect(u).toBeGreaterThan(0);
      expect(u).toBeLessThan(1);
    }
  });
});
