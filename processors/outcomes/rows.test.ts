import { describe, expect, it } from 'vitest';
import type { ExperimentAllocation } from '../../schemas/generated/experiment-allocation.ts';
import { toAllocationEventRow } from './rows.ts';
import { UNIT_SUM_NAMES, unitSumsSql } from './unit-sums.ts';

const at = { partition: 3, offset: '42' };

function allocation(over: Partial<ExperimentAllocation> = {}): ExperimentAllocation {
  return {
    experimentKey: 'abr-bandwidth-factor',
    cell: 'control',
    control: true,
    unitType: 'viewer',
    unitId: 'v1',
    viewerId: 'v1',
    sessionId: 's1',
    bucket: 1234,
    namespace: 'abr-bandwidth',
    hashVersion: 1,
    seed: 'abr-bandwidth-factor-2026-11',
    definitionDigest: '0123456789abcdef',
    allocatedAt: 1_764_000_000_000,
    source: 'control-plane',
    deviceClass: 'tv',
    country: null,
    isp: 'AS3320',
    ...over,
  };
}

describe('toAllocationEventRow', () => {
  it('maps an allocation to its event row, nulls to empty strings', () => {
    const r = toAllocationEventRow(allocation(), at);
    expect(r).toEqual({
      ok: true,
      row: {
        viewer_id: 'v1',
        experiment_key: 'abr-bandwidth-factor',
        unit_id: 'v1',
        allocated_at: 1_764_000_000_000,
        cell: 'control',
        source: 'control-plane',
        session_id: 's1',
        unit_type: 'viewer',
        control: 1,
        bucket: 1234,
        namespace: 'abr-bandwidth',
        hash_version: 1,
        seed: 'abr-bandwidth-factor-2026-11',
        definition_digest: '0123456789abcdef',
        device_class: 'tv',
        country: '',
        isp: 'AS3320',
        source_partition: 3,
        source_offset: 42,
      },
    });
  });

  it('refuses allocations whose unit id cannot join sessions', () => {
    const bad = [
      allocation({ unitId: 'v2' }),
      allocation({ unitType: 'session', unitId: 's2' }),
      allocation({ unitType: 'session', unitId: 's1', sessionId: null }),
      allocation({ bucket: 10_000 }),
      allocation({ allocatedAt: 0 }),
      allocation({ cell: '' }),
    ];
    for (const a of bad) {
      const r = toAllocationEventRow(a, at);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason.length).toBeGreaterThan(10);
    }
    expect(toAllocationEventRow(allocation({ unitType: 'session', unitId: 's1' }), at).ok).toBe(true);
  });
});

describe('unitSumsSql', () => {
  it('names every sum once with the prefix and substitutes the condition', () => {
    const sql = unitSumsSql('pre', 'pre_');
    for (const name of UNIT_SUM_NAMES) expect(sql).toContain(` AS pre_${name}`);
    expect(sql).not.toContain('{cond}');
    expect(sql).toContain('countIf((pre))');
  });
});
