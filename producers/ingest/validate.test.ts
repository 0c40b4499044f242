import { describe, expect, it } from 'vitest';
import { EventKindValues } from '../../schemas/generated/playback-event.ts';
import type { Rejection } from './pipeline.ts';
import { sampleEvent } from './testing.ts';
import { INT_MAX, type ValidateContext, validateEvent } from './validate.ts';

const NOW = 1_700_000_000_000;
const ctx: ValidateContext = {
  receivedAt: NOW,
  clockSkewMs: 0,
  clock: { maxSkewMs: 86_400_000, maxFutureMs: 300_000, maxPastMs: 86_400_000 },
  pathOf: (i) => `$.events[${i}]`,
};
const validate = validateEvent(ctx);

function rejectionOf(raw: unknown, index = 0, context = ctx): Rejection | undefined {
  const r = validateEvent(context)({ index, value: raw });
  return r.type === 'dlq' ? r.rejection : undefined;
}

/** A valid event as parsed JSON with one change at `path` (dot-separated), or removal. */
function withChange(
  path: string,
  value: unknown,
  kind: (typeof EventKindValues)[number] = 'segment_downloaded',
): unknown {
  const event = JSON.parse(JSON.stringify(sampleEvent(kind, { clientTs: NOW - 1_000 }))) as Record<
    string,
    unknown
  >;
  const parts = path.split('.');
  let node = event;
  for (const p of parts.slice(0, -1)) node = node[p] as Record<string, unknown>;
  const last = parts.at(-1) as string;
  if (value === REMOVE) delete node[last];
  else node[last] = value;
  return event;
}
const REMOVE = Symbol('remove');

describe('validate step', () => {
  it.each(EventKindValues)('passes a valid %s event', (kind) => {
    const raw = JSON.parse(JSON.stringify(sampleEvent(kind, { clientTs: NOW - 1_000 })));
    const r = validate({ index: 0, value: raw });
    expect(r.type).toBe('ok');
  });

  it('builds a fresh record with the contract defaults, in schema order', () => {
    const r = validate({
      index: 0,
      value: {
        sessionId: 's',
        seq: 0,
        viewerId: 'v',
        titleId: 't',
        clientTs: NOW,
        kind: 'play_intent',
        playIntent: {},
      },
    });
    expect(r).toEqual({
      type: 'ok',
      value: {
        index: 0,
        value: {
          sessionId: 's',
          seq: 0,
          viewerId: 'v',
          titleId: 't',
          clientTs: NOW,
          kind: 'play_intent',
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
          playIntent: { autoplay: false, startPositionMs: 0, planId: null, ocaId: null },
          manifestLoaded: null,
          firstFrame: null,
          renditionSwitch: null,
          stall: null,
          segment: null,
          heartbeat: null,
          error: null,
          seek: null,
          sessionEnd: null,
        },
      },
    });
    if (r.type === 'ok') expect(Object.keys(r.value.value)[0]).toBe('sessionId');
  });

  it.each([
    // [change at path, new value, expected path suffix, code]
    ['seq', 2 ** 31, '.seq', 'out_of_range'],
    ['seq', -1, '.seq', 'out_of_range'],
    ['seq', 1.5, '.seq', 'invalid_type'],
    ['seq', '1', '.seq', 'invalid_type'],
    ['seq', REMOVE, '.seq', 'missing_field'],
    ['sessionId', '', '.sessionId', 'out_of_range'],
    ['sessionId', 's'.repeat(65), '.sessionId', 'too_long'],
    ['sessionId', 'bad \ud800 surrogate', '.sessionId', 'invalid_string'],
    ['clientTs', Number.POSITIVE_INFINITY, '.clientTs', 'not_finite'],
    ['clientTs', 2 ** 53, '.clientTs', 'out_of_range'],
    ['clientTs', NOW + 3_600_000, '.clientTs', 'timestamp_out_of_range'],
    ['clientTs', NOW - 2 * 86_400_000, '.clientTs', 'timestamp_out_of_range'],
    ['kind', 'teleport', '.kind', 'not_in_enum'],
    ['kind', 7, '.kind', 'invalid_type'],
    ['segment.bytes', -5, '.segment.bytes', 'out_of_range'],
    ['segment.downloadMs', INT_MAX + 1, '.segment.downloadMs', 'out_of_range'],
    ['segment.ocaId', null, '.segment.ocaId', 'invalid_type'],
    ['segment.url', 'u'.repeat(2_049), '.segment.url', 'too_long'],
    ['segment.cacheHit', 'yes', '.segment.cacheHit', 'invalid_type'],
    ['segment.extra', 1, '.segment.extra', 'unknown_field'],
    ['segment', REMOVE, '.segment', 'missing_field'],
    ['segment', [], '.segment', 'invalid_type'],
    ['heartbeat', { bufferMs: 1, bitrateKbps: 1 }, '.heartbeat', 'kind_mismatch'],
    ['cmcd.ot', 'zz', '.cmcd.ot', 'not_in_enum'],
    ['cmcd.su', 1, '.cmcd.su', 'invalid_type'],
    ['cmcd.br', Number.POSITIVE_INFINITY, '.cmcd.br', 'not_finite'],
    ['cmcd.sid', 'x', '.cmcd.sid', 'unknown_field'],
    ['device', { deviceClass: 'fridge' }, '.device.deviceClass', 'not_in_enum'],
    ['device', 'tv', '.device', 'invalid_type'],
    ['experiments', [{ key: 'k', cell: 'c' }, { key: 'k' }], '.experiments[1].cell', 'missing_field'],
    ['experiments', Array.from({ length: 33 }, () => ({ key: 'k', cell: 'c' })), '.experiments', 'too_long'],
    ['server', { isp: 'AS1' }, '.server', 'forbidden_key'],
    ['extra', true, '.extra', 'unknown_field'],
  ])('refuses %s = %s at $.events[2]%s as %s', (path, value, at, code) => {
    const r = rejectionOf(withChange(path, value), 2);
    expect(r?.code).toBe(code);
    expect(r?.path).toBe(`$.events[2]${at}`);
    expect(r?.reason.length).toBeGreaterThan(5);
  });

  it('refuses __proto__ and constructor keys anywhere, by name', () => {
    const top = JSON.parse('{"__proto__":{"polluted":1},"kind":"pause"}');
    expect(rejectionOf(top)).toMatchObject({ code: 'forbidden_key', path: '$.events[0].__proto__' });
    const nested = JSON.parse(
      JSON.stringify(sampleEvent('seek', { clientTs: NOW })).replace(
        '"seek":{',
        '"seek":{"constructor":{"prototype":1},',
      ),
    );
    expect(rejectionOf(nested)).toMatchObject({
      code: 'forbidden_key',
      path: '$.events[0].seek.constructor',
    });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses a payload on pause and resume, which carry none', () => {
    expect(rejectionOf(withChange('seek', { fromMs: 1, toMs: 2 }, 'pause'))).toMatchObject({
      code: 'kind_mismatch',
      path: '$.events[0].seek',
      reason: 'a pause event carries no payload, but seek is set',
    });
  });

  it('refuses things that are not events at all', () => {
    for (const raw of [null, 1, 'event', [], true]) {
      expect(rejectionOf(raw, 5)).toMatchObject({ code: 'not_an_object', path: '$.events[5]' });
    }
  });

  it('judges clientTs on the server clock after removing the batch skew', () => {
    const skewed: ValidateContext = { ...ctx, clockSkewMs: 10 * 3_600_000 };
    // 10 h ahead by the client's clock is now by the server's.
    expect(rejectionOf(withChange('clientTs', NOW + 10 * 3_600_000), 0, skewed)).toBeUndefined();
    // 10 h behind by the client's clock is 20 h in the past by the server's: within a day.
    expect(rejectionOf(withChange('clientTs', NOW - 10 * 3_600_000), 0, skewed)).toBeUndefined();
    expect(rejectionOf(withChange('clientTs', NOW - 15 * 3_600_000), 0, skewed)?.code).toBe(
      'timestamp_out_of_range',
    );
    const tooSkewed: ValidateContext = { ...ctx, clockSkewMs: 2 * 86_400_000 };
    expect(rejectionOf(withChange('clientTs', NOW), 0, tooSkewed)).toMatchObject({
      code: 'clock_skew_out_of_range',
      path: '$.sentAt',
    });
  });

  it('lets CMCD beacons be unsequenced (seq -1) and nothing else', () => {
    const beacon: ValidateContext = { ...ctx, allowUnsequenced: true, pathOf: () => '$' };
    expect(rejectionOf(withChange('seq', -1), 0, beacon)).toBeUndefined();
    expect(rejectionOf(withChange('seq', -2), 0, beacon)).toMatchObject({
      code: 'out_of_range',
      path: '$.seq',
    });
  });

  it('shows at most 64 characters of a hostile key in the path', () => {
    const raw = JSON.parse(JSON.stringify(sampleEvent('pause', { clientTs: NOW })));
    raw['k'.repeat(10_000)] = 1;
    const r = rejectionOf(raw);
    expect(r?.code).toBe('unknown_field');
    expect(r?.path.length).toBeLessThan(100);
  });
});
