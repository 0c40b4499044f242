import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../core/config.ts';
import { isPlayloopError } from '../core/errors.ts';
import { STEERING_POLICIES } from '../experiments/definitions/vocabulary.ts';
import { controlPlaneSettings, defaultOcaDescriptors } from './role.ts';

function configError(overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig({ env, overrides });
  } catch (err) {
    if (isPlayloopError(err)) return err.message;
    throw err;
  }
  return '';
}

describe('control-plane configuration', () => {
  it('has defaults that make a working local control plane', () => {
    const config = loadConfig({ env: {} });
    const settings = controlPlaneSettings(config);
    expect(settings.steering).toMatchObject({ ttlSec: 10, ttlFloorSec: 2, defaultPolicy: 'health-weighted' });
    expect(settings.urlTtlSec).toBe(config.signing.urlTtlSec);
    expect(settings.publicUrl).toBeUndefined();
    // The config's policy names are the experiments' vocabulary.
    expect(
      configSchema.shape.controlPlane.unwrap().shape.steering.unwrap().shape.defaultPolicy.unwrap().options,
    ).toEqual([...STEERING_POLICIES]);
  });

  it('refuses contradictions with the key that is wrong', () => {
    expect(configError({ controlPlane: { steering: { ttlFloorSec: 30, ttlCeilingSec: 10 } } })).toMatch(
      /controlPlane\.steering\.ttlFloorSec .*must not exceed ttlCeilingSec/,
    );
    expect(configError({ controlPlane: { steering: { ttlSec: 1 } } })).toMatch(
      /controlPlane\.steering\.ttlSec/,
    );
    expect(configError({ controlPlane: { allocations: { maxBatch: 10, maxQueued: 5 } } })).toMatch(
      /controlPlane\.allocations\.maxBatch/,
    );
    expect(configError({}, { PLAYLOOP_CONTROL_PLANE_TOKEN_KEYS: 'k1:short' })).toMatch(
      /controlPlane\.tokenKeys\.0 \(PLAYLOOP_CONTROL_PLANE_TOKEN_KEYS\)/,
    );
  });

  it('derives the default fleet’s URLs, never a wildcard address', () => {
    const config = loadConfig({ env: { PLAYLOOP_BIND_HOST: '0.0.0.0' } });
    const ocas = defaultOcaDescriptors(config);
    expect(ocas.map((o) => o.url)).toEqual(
      [7100, 7101, 7102, 7103, 7104, 7105].map((p) => `http://127.0.0.1:${p}`),
    );
    expect(ocas.filter((o) => o.tier === 'edge').every((o) => (o.capacityBytes ?? 0) > 0)).toBe(true);
    expect(
      controlPlaneSettings(
        loadConfig({ env: {}, overrides: { controlPlane: { publicUrl: 'https://cp.example/' } } }),
      ).publicUrl,
    ).toBe('https://cp.example');
  });
});
