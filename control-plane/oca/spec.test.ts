import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { defaultFleetSpec, portOf, validateFleetSpec } from './spec.ts';

describe('fleet spec', () => {
  it('defaults to 2 storage and 4 edge OCAs across 2 ISPs and 2 regions, ports from config', () => {
    const config = loadConfig({ env: {} });
    const fleet = defaultFleetSpec(config.oca);
    expect(fleet.ocas.filter((o) => o.tier === 'storage')).toHaveLength(2);
    const edges = fleet.ocas.filter((o) => o.tier === 'edge');
    expect(edges).toHaveLength(4);
    expect(new Set(edges.map((o) => o.isp))).toEqual(new Set(['AS3320', 'AS7922']));
    expect(new Set(fleet.ocas.map((o) => o.region))).toEqual(new Set(['eu-central', 'us-east']));
    expect(edges.every((o) => o.capacityBytes === 512 * 1024 * 1024)).toBe(true);
    expect(fleet.ocas.map((_, i) => portOf(fleet, i))).toEqual([7100, 7101, 7102, 7103, 7104, 7105]);
    expect(portOf({ ...fleet, basePort: 0 }, 3)).toBe(0);
  });

  it('refuses edges without a storage upstream or a cache size, and duplicate ids', () => {
    const storage = { id: 's', tier: 'storage', region: 'r', isp: 'ix' };
    const edge = { id: 'e', tier: 'edge', region: 'r', isp: 'AS1', capacityBytes: 1, upstream: 's' };
    expect(() => validateFleetSpec({ host: 'h', basePort: 0, ocas: [storage, edge] })).not.toThrow();
    expect(() =>
      validateFleetSpec({ host: 'h', basePort: 0, ocas: [storage, { ...edge, upstream: 'e' }] }),
    ).toThrow(/storage OCA/);
    expect(() =>
      validateFleetSpec({ host: 'h', basePort: 0, ocas: [storage, { ...edge, capacityBytes: undefined }] }),
    ).toThrow(/cache size/);
    expect(() => validateFleetSpec({ host: 'h', basePort: 0, ocas: [storage, storage] })).toThrow(
      /duplicate/,
    );
    expect(() => validateFleetSpec({ host: 'h', basePort: 0, ocas: [{ ...storage, id: 'bad id' }] })).toThrow(
      /Pathway ID/,
    );
  });
});
