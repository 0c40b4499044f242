import { describe, expect, it } from 'vitest';
import { PlayloopError } from '../../core/errors.ts';
import type { Cell } from '../definitions/schema.ts';
import {
  type AssignableExperiment,
  type AssignmentUnit,
  assign,
  assignOne,
  type CellAllocation,
  mergeCellConfigs,
} from './assign.ts';
import { bucketOf } from './hash.ts';

const cells: readonly Cell[] = [
  { name: 'control', control: true, weight: 5000, config: { abr: { abrBandWidthFactor: 0.95 } } },
  { name: 'treatment', control: false, weight: 5000, config: { abr: { abrBandWidthFactor: 0.8 } } },
];

function experiment(overrides: Partial<AssignableExperiment> = {}): AssignableExperiment {
  return Object.freeze({
    key: 'exp',
    status: 'running',
    unit: 'viewer',
    seed: 'exp-seed',
    hashVersion: 1,
    namespace: { name: 'ns', range: { start: 0, end: 10000 } },
    targeting: { deviceClasses: [], countries: [], isps: [] },
    trafficShare: 1,
    cells,
    ...overrides,
  });
}

function unit(i: number, overrides: Partial<AssignmentUnit> = {}): AssignmentUnit {
  return {
    viewerId: `viewer-${i}`,
    sessionId: `session-${i}`,
    deviceClass: 'tv',
    country: 'DE',
    isp: 'AS3320',
    ...overrides,
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('assignOne', () => {
  it('picks the cell from the cell bucket of (seed, unit id) and the weights in file order', () => {
    const exp = experiment({
      cells: [
        { name: 'a', control: true, weight: 2000, config: { abr: { startLevel: 0 } } },
        { name: 'b', control: false, weight: 8000, config: { abr: { startLevel: 1 } } },
      ],
    });
    for (const i of range(200)) {
      const a = assignOne(exp, unit(i));
      const bucket = bucketOf(1, 'exp-seed', `viewer-${i}`);
      expect(a).toMatchObject({
        inExperiment: true,
        bucket,
        cell: bucket < 2000 ? 'a' : 'b',
        unitId: `viewer-${i}`,
      });
    }
  });

  it('randomises sessions by sessionId and leaves them out until there is one', () => {
    const exp = experiment({ unit: 'session' });
    const a = assignOne(exp, unit(1));
    expect(a).toMatchObject({ inExperiment: true, unitId: 'session-1', unitType: 'session' });
    expect(assignOne(exp, unit(1, { sessionId: null }))).toMatchObject({
      inExperiment: false,
      reason: 'missing-unit',
    });
  });

  it('targets device class, country and ISP; empty lists match all, unknown values only those', () => {
    const exp = experiment({ targeting: { deviceClasses: ['tv', 'desktop'], countries: ['DE'], isps: [] } });
    expect(assignOne(exp, unit(1)).inExperiment).toBe(true);
    expect(assignOne(exp, unit(1, { isp: null })).inExperiment).toBe(true);
    expect(assignOne(exp, unit(1, { deviceClass: 'mobile' }))).toMatchObject({
      inExperiment: false,
      reason: 'targeting',
      detail: 'device class mobile not targeted (tv, desktop)',
    });
    expect(assignOne(exp, unit(1, { country: null }))).toMatchObject({ reason: 'targeting' });
    expect(assignOne(exp, unit(1, { country: 'FR' }))).toMatchObject({ reason: 'targeting' });
  });

  it('takes only viewers whose layer bucket is in the namespace range', () => {
    const exp = experiment({ namespace: { name: 'ns', range: { start: 2000, end: 3000 } } });
    for (const i of range(300)) {
      const layer = bucketOf(1, 'layer/ns', `viewer-${i}`);
      const a = assignOne(exp, unit(i));
      expect(a.inExperiment).toBe(layer >= 2000 && layer < 3000);
      if (!a.inExperiment) expect(a.reason).toBe('namespace');
    }
  });

  it('never puts one viewer in two experiments that split a namespace, whatever their units', () => {
    const left = experiment({
      key: 'left',
      seed: 'left',
      namespace: { name: 'ns', range: { start: 0, end: 5000 } },
    });
    const right = experiment({
      key: 'right',
      seed: 'right',
      unit: 'session',
      namespace: { name: 'ns', range: { start: 5000, end: 10000 } },
    });
    let inLeft = 0;
    let inRight = 0;
    for (const i of range(2000)) {
      const [a, b] = assign([left, right], unit(i));
      expect(a?.inExperiment && b?.inExperiment).toBe(false);
      if (a?.inExperiment) inLeft++;
      if (b?.inExperiment) inRight++;
    }
    expect(inLeft + inRight).toBe(2000);
    expect(inLeft).toBeGreaterThan(800);
    expect(inRight).toBeGreaterThan(800);
  });

  it('ramps traffic by adding units, never moving a unit between cells', () => {
    const byShare = [0.1, 0.3, 0.5, 1].map((trafficShare) => {
      const exp = experiment({ trafficShare });
      return range(2000).map((i) => assignOne(exp, unit(i)));
    });
    for (const i of range(2000)) {
      let cell: string | undefined;
      for (const allocations of byShare) {
        const a = allocations[i];
        if (a === undefined) throw new Error('missing allocation');
        if (cell !== undefined) expect(a).toMatchObject({ inExperiment: true, cell });
        if (a.inExperiment) cell = a.cell;
        else expect(a.reason).toBe('traffic');
      }
    }
    const counts = byShare.map((allocations) => allocations.filter((a) => a.inExperiment).length);
    expect(counts[3]).toBe(2000);
    expect(counts[0]).toBeGreaterThan(140);
    expect(counts[0]).toBeLessThan(260);
  });

  it('treats a share as a whole number of buckets (0.07 is 700, not 701)', () => {
    const exp = experiment({ trafficShare: 0.07 });
    for (const i of range(3000)) {
      const traffic = bucketOf(1, 'traffic/exp-seed', `viewer-${i}`);
      expect(assignOne(exp, unit(i)).inExperiment).toBe(traffic < 700);
    }
  });

  it('carries what the allocation event needs', () => {
    const a = assignOne(experiment(), unit(7)) as CellAllocation;
    expect(a).toMatchObject({
      experimentKey: 'exp',
      unitType: 'viewer',
      viewerId: 'viewer-7',
      sessionId: 'session-7',
      deviceClass: 'tv',
      country: 'DE',
      isp: 'AS3320',
      namespace: 'ns',
      seed: 'exp-seed',
      hashVersion: 1,
    });
    expect(a.definitionDigest).toMatch(/^[0-9a-f]{16}$/);
    expect(a.control).toBe(a.cell === 'control');
  });

  it('refuses ids it cannot hash the same way everywhere', () => {
    expect(() => assignOne(experiment(), unit(1, { viewerId: '' }))).toThrow(PlayloopError);
    expect(() => assignOne(experiment(), unit(1, { viewerId: 'bad-\udc00' }))).toThrow(/lone surrogate/);
  });
});

describe('assign', () => {
  it('allocates in every running experiment, sorted by key, and skips the rest', () => {
    const defs = [
      experiment({ key: 'zeta', seed: 'zeta' }),
      experiment({
        key: 'alpha',
        seed: 'alpha',
        namespace: { name: 'other', range: { start: 0, end: 10000 } },
      }),
      experiment({ key: 'draft', seed: 'draft', status: 'draft' }),
      experiment({ key: 'stopped', seed: 'stopped', status: 'stopped' }),
    ];
    const allocations = assign(defs, unit(3));
    expect(allocations.map((a) => a.experimentKey)).toEqual(['alpha', 'zeta']);
  });

  it('is deterministic: same definitions, same unit, same allocations', () => {
    const defs = [experiment({ trafficShare: 0.5 })];
    for (const i of range(100)) expect(assign(defs, unit(i))).toEqual(assign([...defs], unit(i)));
  });
});

describe('mergeCellConfigs', () => {
  it('merges the knobs of the cells a unit is in', () => {
    const abr = experiment({ key: 'abr', seed: 'abr' });
    const steering = experiment({
      key: 'steer',
      seed: 'steer',
      namespace: { name: 'steering', range: { start: 0, end: 10000 } },
      cells: [
        { name: 'near', control: true, weight: 5000, config: { steering: { policy: 'proximity-only' } } },
        {
          name: 'healthy',
          control: false,
          weight: 5000,
          config: { steering: { policy: 'health-weighted' } },
        },
      ],
    });
    const allocations = assign([abr, steering], unit(11));
    const merged = mergeCellConfigs(allocations);
    const a = allocations[0] as CellAllocation;
    const s = allocations[1] as CellAllocation;
    expect(merged.abr).toEqual(a.config.abr);
    expect(merged.steering).toEqual(s.config.steering);
    expect(merged.sources).toEqual({ abrBandWidthFactor: 'abr', 'steering.policy': 'steer' });
  });

  it('refuses two experiments setting one knob rather than letting one win', () => {
    const one = experiment({ key: 'one', seed: 'one' });
    const two = experiment({
      key: 'two',
      seed: 'two',
      namespace: { name: 'elsewhere', range: { start: 0, end: 10000 } },
    });
    expect(() => mergeCellConfigs(assign([one, two], unit(1)))).toThrow(/both set abrBandWidthFactor/);
  });
});
