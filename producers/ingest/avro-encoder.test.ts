import { describe, expect, it } from 'vitest';
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import { schema as playbackEventSchema } from '../../schemas/generated/playback-event.ts';
import { SlabAvroEncoder } from './avro-encoder.ts';
import { eventCodec, sampleEvent } from './testing.ts';
import { validateEvent } from './validate.ts';

function events(n: number): PlaybackEvent[] {
  const now = Date.now();
  const validate = validateEvent({
    receivedAt: now,
    clockSkewMs: 0,
    clock: { maxSkewMs: 1, maxFutureMs: 60_000, maxPastMs: 60_000 },
    pathOf: (i) => `$.events[${i}]`,
  });
  const kinds = ['segment_downloaded', 'heartbeat', 'error', 'play_intent'] as const;
  return Array.from({ length: n }, (_, i) => {
    const r = validate({
      index: i,
      value: JSON.parse(JSON.stringify(sampleEvent(kinds[i % 4], { seq: i }))),
    });
    if (r.type !== 'ok') throw new Error('sample invalid');
    return {
      ...r.value.value,
      server: {
        receivedAt: now,
        clockSkewMs: i,
        deviceClass: 'tv',
        isp: 'AS1',
        region: 'r',
        country: 'DE',
        ingestKeyId: 'k',
      },
    };
  });
}

describe('slab Avro encoder', () => {
  it('writes the same Confluent wire-format bytes as the codec, across slab boundaries', () => {
    const reference = eventCodec(); // schema id 1, avsc toBuffer + header
    const slab = new SlabAvroEncoder<PlaybackEvent>(playbackEventSchema, 1);
    const all = events(3_000); // ~0.6 MB: several slabs
    const encoded = all.map((e) => slab.encode(e));
    for (let i = 0; i < all.length; i++) {
      expect(encoded[i]?.equals(reference.encode(all[i] as PlaybackEvent))).toBe(true);
    }
    // Earlier records are not overwritten by later ones.
    expect(reference.decode(encoded[0] as Buffer)).toEqual(all[0]);
  });

  it('grows a slab for a record larger than one', () => {
    const slab = new SlabAvroEncoder<PlaybackEvent>(playbackEventSchema, 7);
    const [big] = events(1);
    const huge = { ...(big as PlaybackEvent), viewerId: 'v'.repeat(600_000) };
    const out = slab.encode(huge);
    expect(out.readUInt32BE(1)).toBe(7);
    expect(new SlabAvroEncoder<PlaybackEvent>(playbackEventSchema, 7).encode(huge).equals(out)).toBe(true);
  });

  it('refuses a value that does not fit with INVALID_EVENT and its path', () => {
    const slab = new SlabAvroEncoder<PlaybackEvent>(playbackEventSchema, 1, 'events-value');
    const [e] = events(1);
    const bad = { ...(e as PlaybackEvent), seq: 2 ** 40 };
    expect(() => slab.encode(bad)).toThrow(
      expect.objectContaining({ code: 'PLAYLOOP_INVALID_EVENT', details: { path: 'seq' } }),
    );
    // And it goes on working.
    expect(slab.encode(e as PlaybackEvent).length).toBeGreaterThan(5);
  });
});
