import { describe, expect, it } from 'vitest';
import type { CpuProfile } from '../profile.ts';
import { percentile } from './common.ts';
import { componentOf, summariseProcessorsProfile } from './profile.ts';

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });

// root -> onBatch (sessionize) -> fromBuffer (avsc); root -> (idle)
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 4] },
    { id: 2, callFrame: frame('onBatch', 'file:///w/processors/sessionize/processor.ts'), children: [3] },
    { id: 3, callFrame: frame('fromBuffer', 'file:///w/node_modules/avsc/lib/types.js') },
    { id: 4, callFrame: frame('(idle)') },
  ],
  startTime: 1_000,
  endTime: 1_500,
  // Each sample stands for the delta that follows it: 2 -> 100, 3 -> 100, 3 -> 100, 4 -> 200.
  samples: [2, 3, 3, 4, 2],
  timeDeltas: [0, 100, 100, 100, 200],
};

describe('summariseProcessorsProfile', () => {
  it('attributes self and inclusive time, idle apart', () => {
    const s = summariseProcessorsProfile(profile);
    expect(s.busyMs).toBeCloseTo(0.3);
    expect(s.idleMs).toBeCloseTo(0.2);
    const self = Object.fromEntries(s.functions.map((f) => [f.name.split(' ')[0], f.share]));
    expect(self['fromBuffer']).toBeCloseTo(2 / 3);
    expect(self['onBatch']).toBeCloseTo(1 / 3);
    const inclusive = Object.fromEntries(s.inclusive.map((f) => [f.name.split(' ')[0], f.share]));
    expect(inclusive['onBatch']).toBeCloseTo(1);
    expect(inclusive['(root)']).toBeUndefined();
    const components = Object.fromEntries(s.components.map((c) => [c.name, c.share]));
    expect(components).toEqual({ 'avsc (Avro)': 2 / 3, 'processors/sessionize': 1 / 3 });
  });

  it('cuts to a span of the profile clock', () => {
    // Samples at 1100 (3) and 1200 (3) only.
    const s = summariseProcessorsProfile(profile, { fromUs: 1_050, toUs: 1_250 });
    expect(s.busyMs).toBeCloseTo(0.2);
    expect(s.functions.map((f) => f.name.split(' ')[0])).toEqual(['fromBuffer']);
  });

  it('names components by package and folder', () => {
    expect(componentOf(frame('x', 'file:///w/node_modules/@clickhouse/client/dist/a.js'))).toBe(
      '@clickhouse/client',
    );
    expect(componentOf(frame('x', 'node:internal/buffer'))).toBe('node core');
    expect(componentOf(frame('(garbage collector)'))).toBe('GC');
  });
});

describe('percentile (nearest rank)', () => {
  it('matches the textbook definition', () => {
    // Nearest rank, the ceil(q * n)-th smallest value: the worked example of Wikipedia's
    // "Percentile" article (nearest-rank method), {15, 20, 35, 40, 50}.
    const v = [15, 20, 35, 40, 50];
    expect(percentile(v, 0.3)).toBe(20);
    expect(percentile(v, 0.4)).toBe(20);
    expect(percentile(v, 0.5)).toBe(35);
    expect(percentile(v, 1)).toBe(50);
    expect(percentile([], 0.5)).toBeNaN();
  });
});
