import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { type ExperimentAllocation, schema } from '../../schemas/generated/experiment-allocation.ts';
import { allocationEventKey, toAllocationEvent } from './allocation-event.ts';
import { assignOne, type CellAllocation } from './assign.ts';

const type = avro.Type.forSchema(schema as unknown as avro.Schema);

const allocation = assignOne(
  Object.freeze({
    key: 'steering-health-weighted',
    status: 'running',
    unit: 'session',
    seed: 'steering-seed',
    hashVersion: 1,
    namespace: { name: 'steering', range: { start: 0, end: 10000 } },
    targeting: { deviceClasses: [], countries: [], isps: [] },
    trafficShare: 1,
    cells: [
      {
        name: 'proximity-only',
        control: true,
        weight: 5000,
        config: { steering: { policy: 'proximity-only' } },
      },
      {
        name: 'health-weighted',
        control: false,
        weight: 5000,
        config: { steering: { policy: 'health-weighted' } },
      },
    ],
  } as const),
  { viewerId: 'viewer-1', sessionId: 'session-1', deviceClass: 'tv', country: 'DE', isp: null },
) as CellAllocation;

describe('toAllocationEvent', () => {
  it('maps a cell allocation to the Avro record, keyed by the unit id', () => {
    const event = toAllocationEvent(allocation, { allocatedAt: 1_764_000_000_000, source: 'control-plane' });
    expect(event).toEqual({
      experimentKey: 'steering-health-weighted',
      cell: allocation.cell,
      control: allocation.cell === 'proximity-only',
      unitType: 'session',
      unitId: 'session-1',
      viewerId: 'viewer-1',
      sessionId: 'session-1',
      bucket: allocation.bucket,
      namespace: 'steering',
      hashVersion: 1,
      seed: 'steering-seed',
      definitionDigest: allocation.definitionDigest,
      allocatedAt: 1_764_000_000_000,
      source: 'control-plane',
      deviceClass: 'tv',
      country: 'DE',
      isp: null,
    } satisfies ExperimentAllocation);
    expect(allocationEventKey(event)).toBe('session-1');
  });

  it('fits schemas/experiment-allocation.avsc and survives an Avro round trip', () => {
    const event = toAllocationEvent(allocation, { allocatedAt: 1_764_000_000_000, source: 'fleet' });
    const paths: string[] = [];
    expect(type.isValid(event, { errorHook: (path) => paths.push(path.join('.')) })).toBe(true);
    expect(paths).toEqual([]);
    expect(type.fromBuffer(type.toBuffer(event))).toEqual(event);
  });
});
