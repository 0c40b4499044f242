import { describe, expect, it } from 'vitest';
import { isPlayloopError } from '../../core/errors.ts';
import { parsePlaybackRequest } from './request.ts';

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
});
