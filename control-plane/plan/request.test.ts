import { describe, expect, it } from 'vitest';
import { isPlayloopError } from '../../core/errors.ts';
import { parseAcceptedRequest, parsePlaybackRequest, playbackRequestSchema } from './request.ts';

const good = {
  device: { class: 'tv', codecs: ['avc1', 'mp4a.40.2'], maxResolution: { width: 1920, height: 1080 } },
  network: { isp: 'AS3320', region: 'eu-central', country: 'DE', throughputKbps: 8000 },
};

function issues(body: unknown): string[] {
  try {
    parsePlaybackRequest(body);
  } catch (err) {
    if (isPlayloopError(err)) {
      expect(err.httpStatus).toBe(400);
      return err.details['issues'] as string[];
    }
    throw err;
  }
  return [];
}

describe('playback request', () => {
  it('parses a good body; network hints are optional', () => {
    expect(parsePlaybackRequest(good)).toEqual(good);
    expect(parsePlaybackRequest({ device: good.device }).network).toEqual({});
  });

  it('names every bad field', () => {
    expect(issues(undefined)).toEqual(['(body): required']);
    expect(issues({})).toEqual(['device: Invalid input: expected object, received undefined']);
    const bad = issues({
      device: { class: 'fridge', codecs: [], maxResolution: { width: 1920, height: 99999 } },
      network: { isp: '3320', country: 'de' },
    });
    expect(bad).toHaveLength(5);
    expect(bad[0]).toMatch(/^device\.class: /);
    expect(bad[1]).toBe('device.codecs: must name at least one codec');
    expect(bad[2]).toMatch(/^device\.maxResolution\.height: /);
    expect(bad[3]).toBe('network.isp: must be an autonomous system number such as AS3320');
    expect(bad[4]).toBe('network.country: must be an ISO 3166-1 alpha-2 code in upper case');
    expect(issues({ ...good, device: { ...good.device, maxResolutoin: {} } })).toEqual([
      'device: Unrecognized key: "maxResolutoin"',
    ]);
    expect(issues({ ...good, device: { ...good.device, codecs: ['h.264'] } })[0]).toMatch(/RFC 6381/);
  });

  it('takes the hand-checked path only for bodies zod accepts, with the same value', () => {
    const accepted = [
      good,
      { device: good.device },
      { network: { country: 'US', isp: 'AS7922' }, device: { ...good.device, class: 'mobile' } },
      { device: { maxResolution: { height: 16, width: 7_680 }, codecs: ['avc1.42c01e'], class: 'stb' } },
      { device: good.device, network: {} },
      { device: good.device, network: { throughputKbps: 100_000_000 } },
      { device: { ...good.device, codecs: Array.from({ length: 32 }, () => 'hvc1') } },
    ];
    for (const body of accepted) {
      const fast = parseAcceptedRequest(body);
      expect(fast).toBeDefined();
      // Same value and the same key order, hence the same JSON wherever it is echoed.
      expect(JSON.stringify(fast)).toBe(JSON.stringify(playbackRequestSchema.parse(body)));
    }
  });

  it('leaves every doubtful body to zod', () => {
    // Each of these is refused by the schema, or (network spelt undefined) needs its prefault.
    const doubtful: unknown[] = [
      [],
      'tv',
      { device: good.device, extra: 1 },
      { device: { ...good.device, class: 'fridge' } },
      { device: { ...good.device, codecs: [] } },
      { device: { ...good.device, codecs: Array.from({ length: 33 }, () => 'avc1') } },
      { device: { ...good.device, codecs: ['h.264'] } },
      { device: { ...good.device, codecs: [1] } },
      { device: { ...good.device, maxResolution: { width: 15, height: 1080 } } },
      { device: { ...good.device, maxResolution: { width: 1920.5, height: 1080 } } },
      { device: { ...good.device, maxResolution: { width: 1920, height: 4_321 } } },
      { device: { ...good.device, maxResolution: { width: 1920, height: 1080, depth: 8 } } },
      { device: good.device, network: null },
      { device: good.device, network: undefined },
      { device: good.device, network: { isp: '3320' } },
      { device: good.device, network: { isp: undefined } },
      { device: good.device, network: { region: 'EU Central' } },
      { device: good.device, network: { country: 'de' } },
      { device: good.device, network: { throughputKbps: 0 } },
      { device: good.device, network: { throughputKbps: Number.POSITIVE_INFINITY } },
      { device: good.device, network: { throughputKbps: 100_000_001 } },
      { device: good.device, network: { asn: 'AS3320' } },
    ];
    for (const body of doubtful) expect(parseAcceptedRequest(body)).toBeUndefined();
    // ... and zod still says what is wrong with them (the one fine body aside).
    expect(issues({ device: good.device, network: undefined })).toEqual([]);
    expect(issues({ device: good.device, network: { throughputKbps: 0 } })[0]).toMatch(
      /^network\.throughputKbps: /,
    );
  });

  it('agrees with zod on bodies built from mixed good and bad fields', () => {
    // A fixed linear congruential sequence (Numerical Recipes constants): the same bodies each run.
    let state = 12_345;
    const pick = <T>(options: readonly T[]): T => {
      state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
      return options[state % options.length] as T;
    };
    const absent = Symbol('absent');
    const field = <T>(options: readonly T[]): T | typeof absent => pick([...options, absent]);
    const build = (parts: Record<string, unknown>): Record<string, unknown> =>
      Object.fromEntries(Object.entries(parts).filter(([, v]) => v !== absent));
    let fastCount = 0;
    for (let i = 0; i < 2_000; i++) {
      const body = build({
        device: field([
          build({
            class: field(['tv', 'mobile', 'console', 'fridge', 3]),
            codecs: field([['avc1'], ['avc1.64001f', 'mp4a.40.2'], [], ['mp4a..2'], 'avc1']),
            maxResolution: field([
              { width: 1920, height: 1080 },
              { width: 16, height: 4_320 },
              { width: 8_000, height: 1080 },
              { width: '1920', height: 1080 },
            ]),
            colour: field(['hdr']),
          }),
          null,
        ]),
        network: field([
          build({
            isp: field(['AS3320', 'AS0', 'as3320']),
            region: field(['us-east', 'US East', '']),
            country: field(['DE', 'Deu']),
            throughputKbps: field([12_000, 0.5, -1, 1e9, Number.NaN]),
          }),
          [],
        ]),
      });
      const fast = parseAcceptedRequest(body);
      const slow = playbackRequestSchema.safeParse(body);
      if (fast !== undefined) fastCount++;
      expect(fast !== undefined).toBe(slow.success);
      if (fast !== undefined && slow.success) expect(JSON.stringify(fast)).toBe(JSON.stringify(slow.data));
    }
    expect(fastCount).toBeGreaterThan(20);
  });
});
