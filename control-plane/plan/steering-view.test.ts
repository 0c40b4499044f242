import { describe, expect, it } from 'vitest';
import type { SteeringConfig } from '../../schemas/generated/steering-config.ts';
import { EMPTY_STEERING_VIEW, effectiveTtlSec, steeringScopes, steeringView } from './steering-view.ts';
import { ocaHealth, steeringDoc } from './testing.ts';

const settings = { ttlSec: 10, ttlFloorSec: 2, ttlCeilingSec: 300 };

function table(docs: SteeringConfig[]): (scope: string) => SteeringConfig | undefined {
  const byScope = new Map(docs.map((d) => [d.scope, d]));
  return (scope) => byScope.get(scope);
}

describe('steering view', () => {
  it('reads isp, then region, then global, each OCA from the most specific document naming it', () => {
    expect(steeringScopes({ isp: 'AS3320', region: 'eu-central' })).toEqual([
      'isp:AS3320',
      'region:eu-central',
      'global',
    ]);
    expect(steeringScopes({ isp: null, region: null })).toEqual(['global']);
    const view = steeringView(
      table([
        steeringDoc('global', 9, [ocaHealth('a', 'healthy', 0.9), ocaHealth('s', 'healthy', 1)], 30),
        steeringDoc('isp:AS3320', 3, [ocaHealth('a', 'degraded', 0.4)], 5),
        steeringDoc('isp:AS7922', 3, [ocaHealth('s', 'drained', 0)], 5),
      ]),
      { isp: 'AS3320', region: 'eu-central' },
    );
    expect(view.health.get('a')).toEqual({ state: 'degraded', score: 0.4 });
    expect(view.health.get('s')).toEqual({ state: 'healthy', score: 1 });
    expect(view.ttlSec).toBe(5);
    expect(view.versions).toEqual(['isp:AS3320@3', 'global@9']);
  });

  it('clamps scores into [0, 1]', () => {
    const view = steeringView(
      table([
        steeringDoc('global', 1, [ocaHealth('a', 'healthy', 7), ocaHealth('b', 'healthy', Number.NaN)]),
      ]),
      {
        isp: null,
        region: null,
      },
    );
    expect(view.health.get('a')?.score).toBe(1);
    expect(view.health.get('b')?.score).toBe(0);
  });

  it('serves a TTL within the floor and ceiling, never 0', () => {
    expect(effectiveTtlSec(EMPTY_STEERING_VIEW, settings)).toBe(10);
    const ttl = (t: number): number => effectiveTtlSec({ ...EMPTY_STEERING_VIEW, ttlSec: t }, settings);
    expect(ttl(0)).toBe(2);
    expect(ttl(-5)).toBe(2);
    expect(ttl(1)).toBe(2);
    expect(ttl(7)).toBe(7);
    expect(ttl(86_400)).toBe(300);
  });
});
