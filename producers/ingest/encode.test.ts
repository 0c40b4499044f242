import { describe, expect, it } from 'vitest';
import { PlayloopError } from '../../core/errors.ts';
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import { type Encoder, encodeEvent } from './encode.ts';
import { eventCodec, sampleEvent } from './testing.ts';
import { validateEvent } from './validate.ts';

function enriched(): PlaybackEvent {
  const now = Date.now();
  const r = validateEvent({
    receivedAt: now,
    clockSkewMs: 0,
    clock: { maxSkewMs: 1, maxFutureMs: 60_000, maxPastMs: 60_000 },
    pathOf: (i) => `$.events[${i}]`,
  })({
    index: 0,
    value: JSON.parse(JSON.stringify(sampleEvent('segment_downloaded', { sessionId: 'sess-1' }))),
  });
  if (r.type !== 'ok') throw new Error('sample invalid');
  return {
    ...r.value.value,
    server: {
      receivedAt: now,
      clockSkewMs: 0,
      deviceClass: 'tv',
      isp: 'unknown',
      region: 'unknown',
      country: 'ZZ',
      ingestKeyId: 'k_x',
    },
  };
}

describe('encode step', () => {
  it('encodes Avro in the Confluent wire format, keyed by sessionId', () => {
    const codec = eventCodec();
    const event = enriched();
    const r = encodeEvent(codec, 'topic-a', (i) => `$.events[${i}]`)({ index: 4, value: event });
    expect(r.type).toBe('ok');
    if (r.type !== 'ok') return;
    expect(r.value.index).toBe(4);
    expect(r.value.value.topic).toBe('topic-a');
    expect(r.value.value.key).toBe('sess-1');
    expect(r.value.value.value.readUInt8(0)).toBe(0);
    expect(codec.decode(r.value.value.value)).toEqual(event);
  });

  it('dead-letters what the encoder refuses as a contract fault, naming the event', () => {
    const refusing: Encoder<PlaybackEvent> = {
      encode: () => {
        throw new PlayloopError('INVALID_EVENT', 'value does not fit: segment.bytes', {
          details: { path: 'segment.bytes' },
        });
      },
    };
    const r = encodeEvent(refusing, 't', (i) => `$.events[${i}]`)({ index: 2, value: enriched() });
    expect(r).toEqual({
      type: 'dlq',
      rejection: {
        code: 'encode_failed',
        path: '$.events[2].segment.bytes',
        reason: 'value does not fit: segment.bytes',
      },
    });
  });

  it('lets programmer errors through: they are bugs, not bad data', () => {
    const broken: Encoder<PlaybackEvent> = {
      encode: () => {
        throw new TypeError('boom');
      },
    };
    expect(() => encodeEvent(broken, 't', () => '$')({ index: 0, value: enriched() })).toThrow(TypeError);
  });
});
