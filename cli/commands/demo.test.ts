import { describe, expect, it } from 'vitest';
import { validatePopulation } from '../../producers/fleet/population.ts';
import { demoPopulation, isSteeringChange, parseMinutes, type SteeringChangeRow } from './demo.ts';

function row(over: Partial<SteeringChangeRow>): SteeringChangeRow {
  return {
    changedAtMs: 0,
    scope: 'isp:AS3320',
    version: 2,
    kind: 'priority',
    ocaId: '',
    fromState: '',
    toState: '',
    reason: '',
    pathwayPriority: ['oca-a', 'oca-b'],
    before: ['oca-a'],
    ...over,
  };
}

describe('demo: what counts as a steering change', () => {
  it('counts health state transitions', () => {
    expect(
      isSteeringChange(row({ kind: 'state', ocaId: 'oca-a', fromState: 'healthy', toState: 'degraded' })),
    ).toBe(true);
  });

  it('counts a new first pathway, not OCAs added behind the same one', () => {
    expect(isSteeringChange(row({ pathwayPriority: ['oca-b', 'oca-a'], before: ['oca-a'] }))).toBe(true);
    expect(isSteeringChange(row({ pathwayPriority: ['oca-a', 'oca-b'], before: ['oca-a'] }))).toBe(false);
  });

  it("does not count a scope's first document", () => {
    expect(isSteeringChange(row({ kind: 'initial', before: null }))).toBe(false);
    expect(isSteeringChange(row({ before: null }))).toBe(false);
    expect(isSteeringChange(row({ before: [] }))).toBe(false);
  });
});

describe('demo: population', () => {
  it('gives every ISP the default population’s overall access mix', () => {
    const pop = validatePopulation(demoPopulation());
    // By hand from DEFAULT_POPULATION: ISP weights 0.35/0.15/0.35/0.15 over
    // AS3320 {dsl .45, fiber .25, lte .3}, AS64496 {cable .8, dsl .2},
    // AS7922 {cable .85, fiber .15}, AS64497 {lte .7, hspa .3}.
    const expected = { dsl: 0.1875, fiber: 0.14, lte: 0.21, cable: 0.4175, hspa: 0.045 };
    for (const isp of pop.isps) {
      for (const [kind, share] of Object.entries(expected)) {
        expect(isp.access[kind as keyof typeof isp.access]).toBeCloseTo(share, 4);
      }
    }
    expect(pop.devices.every((d) => d.watchMedianMs === 10_000)).toBe(true);
  });
});

describe('demo: --experiment-min-runtime', () => {
  it('takes minutes, or "definition" for the file’s own rule', () => {
    expect(parseMinutes(undefined, 1, 'x')).toBe(1);
    expect(parseMinutes('2.5', 1, 'x')).toBe(2.5);
    expect(parseMinutes('definition', 1, 'x')).toBeNull();
    expect(() => parseMinutes('0', 1, 'x')).toThrow(/positive number of minutes/);
    expect(() => parseMinutes('soon', 1, 'x')).toThrow(/positive number of minutes/);
  });
});
