import { describe, expect, it } from 'vitest';
import { type EnrichContext, enrichEvent } from './enrich.ts';
import type { ValidEvent } from './validate.ts';

const base: ValidEvent = {
  sessionId: 's',
  seq: 0,
  viewerId: 'v',
  titleId: 't',
  clientTs: 1,
  kind: 'pause',
  playheadMs: null,
  device: {
    deviceClass: null,
    model: null,
    os: null,
    playerName: null,
    playerVersion: null,
    userAgent: null,
  },
  experiments: [],
  cmcd: null,
  playIntent: null,
  manifestLoaded: null,
  firstFrame: null,
  renditionSwitch: null,
  stall: null,
  segment: null,
  heartbeat: null,
  error: null,
  seek: null,
  sessionEnd: null,
};
const ctx: EnrichContext = {
  receivedAt: 1_700_000_000_000,
  clockSkewMs: -1_234,
  userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148',
  ip: { isp: 'AS64496', region: 'eu-central', country: 'DE' },
  ingestKeyId: 'k_0123456789ab',
};
const enrich = (event: ValidEvent, c = ctx) => {
  const r = enrichEvent(c)({ index: 0, value: event });
  if (r.type !== 'ok') throw new Error('enrich refused');
  return r.value.value;
};

describe('enrich step', () => {
  it('adds what the server knows, leaving the player fields as they were', () => {
    const out = enrich(base);
    expect(out.server).toEqual({
      receivedAt: 1_700_000_000_000,
      clockSkewMs: -1_234,
      deviceClass: 'mobile',
      isp: 'AS64496',
      region: 'eu-central',
      country: 'DE',
      ingestKeyId: 'k_0123456789ab',
    });
    const { server: _server, ...rest } = out;
    expect(rest).toEqual(base);
  });

  it("takes the player's own device class first, then the event's User-Agent, then the request's", () => {
    expect(enrich({ ...base, device: { ...base.device, deviceClass: 'console' } }).server.deviceClass).toBe(
      'console',
    );
    const tvUa = 'Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36';
    expect(enrich({ ...base, device: { ...base.device, userAgent: tvUa } }).server.deviceClass).toBe('tv');
    expect(enrich(base, { ...ctx, userAgent: null }).server.deviceClass).toBe('unknown');
  });
});
