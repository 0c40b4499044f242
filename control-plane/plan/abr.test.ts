import { describe, expect, it } from 'vitest';
import { AbrIndex, playerAbrConfig, resolveAbr, withOverrides } from './abr.ts';
import { abrDoc } from './testing.ts';

const tvDe = { deviceClass: 'tv', isp: 'AS3320', country: 'DE' };

describe('ABR resolution', () => {
  it('layers global < device < isp < cohort, a null knob inheriting', () => {
    const docs = [
      abrDoc('cohort:tv-de', 2, { maxBufferLength: 40 }, { deviceClasses: ['tv'], countries: ['DE'] }),
      abrDoc('isp:AS3320', 4, { abrBandWidthFactor: 0.85, maxBufferLength: 20 }),
      abrDoc('device:tv', 1, { abrBandWidthFactor: 0.9, startLevel: 1 }),
      abrDoc('global', 7, { abrBandWidthFactor: 0.95, abrBandWidthUpFactor: 0.7, maxBufferLength: 30 }),
    ];
    const r = resolveAbr(docs, tvDe);
    expect(r.knobs).toEqual({
      abrBandWidthFactor: 0.85,
      abrBandWidthUpFactor: 0.7,
      maxBufferLength: 40,
      startLevel: 1,
    });
    expect(r.sources).toEqual({
      abrBandWidthFactor: 'isp:AS3320@4',
      abrBandWidthUpFactor: 'global@7',
      maxBufferLength: 'cohort:tv-de@2',
      startLevel: 'device:tv@1',
    });
    expect(r.layers).toEqual(['global@7', 'device:tv@1', 'isp:AS3320@4', 'cohort:tv-de@2']);
  });

  it('applies only the layers whose scope and targeting match', () => {
    const docs = [
      abrDoc('global', 1, { maxBufferLength: 30 }),
      abrDoc('device:mobile', 1, { maxBufferLength: 10 }),
      abrDoc('isp:AS7922', 1, { maxBufferLength: 12 }),
      abrDoc('cohort:us', 1, { maxBufferLength: 14 }, { countries: ['US'] }),
      // An unknown country matches only an empty list, as in experiment targeting.
      abrDoc('cohort:de-only', 1, { startLevel: 2 }, { countries: ['DE'] }),
    ];
    expect(resolveAbr(docs, tvDe).knobs).toEqual({ maxBufferLength: 30, startLevel: 2 });
    expect(resolveAbr(docs, { deviceClass: 'tv', isp: null, country: null }).knobs).toEqual({
      maxBufferLength: 30,
    });
  });

  it('orders cohorts broad to specific, then by scope name', () => {
    const docs = [
      abrDoc('cohort:b-tv-de', 1, { maxBufferLength: 3 }, { deviceClasses: ['tv'], countries: ['DE'] }),
      abrDoc('cohort:z-tv', 1, { maxBufferLength: 2 }, { deviceClasses: ['tv'] }),
      abrDoc('cohort:a-tv', 1, { maxBufferLength: 1, startLevel: 0 }, { deviceClasses: ['tv'] }),
    ];
    const r = resolveAbr(docs, tvDe);
    expect(r.layers).toEqual(['cohort:a-tv@1', 'cohort:z-tv@1', 'cohort:b-tv-de@1']);
    expect(r.knobs).toEqual({ maxBufferLength: 3, startLevel: 0 });
  });

  it('puts experiment cells on top of every config layer', () => {
    const base = resolveAbr([abrDoc('isp:AS3320', 1, { abrBandWidthFactor: 0.9 })], tvDe);
    const r = withOverrides(base, [
      { knob: 'abrBandWidthFactor', value: 0.8, source: 'experiment:abr-bandwidth-factor/headroom-0-8' },
    ]);
    expect(r.knobs.abrBandWidthFactor).toBe(0.8);
    expect(r.sources.abrBandWidthFactor).toBe('experiment:abr-bandwidth-factor/headroom-0-8');
    expect(base.knobs.abrBandWidthFactor).toBe(0.9);
  });

  it('ignores knobs outside the bounds experiment cells are held to', () => {
    const invalid: string[] = [];
    const index = new AbrIndex(
      [abrDoc('global', 1, { abrBandWidthFactor: 1.5, maxBufferLength: 0, startLevel: 2 })],
      (doc, knob) => invalid.push(`${doc.scope}.${knob}`),
    );
    expect(index.resolve(tvDe).knobs).toEqual({ startLevel: 2 });
    expect(invalid).toEqual(['global.abrBandWidthFactor', 'global.maxBufferLength']);
  });

  it('speaks each player’s config shape', () => {
    const r = resolveAbr(
      [abrDoc('global', 1, { abrBandWidthFactor: 0.8, bandwidthSafetyFactor: 0.85 })],
      tvDe,
    );
    expect(playerAbrConfig(r)).toEqual({
      hlsjs: { abrBandWidthFactor: 0.8 },
      dashjs: { streaming: { abr: { bandwidthSafetyFactor: 0.85 } } },
    });
    expect(playerAbrConfig(resolveAbr([], tvDe))).toEqual({ hlsjs: {}, dashjs: {} });
  });
});
