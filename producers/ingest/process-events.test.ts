import { describe, expect, it } from 'vitest';
import { eventSteps, processEvents } from './process-events.ts';
import { deadLetterCodec, eventCodec, sampleEvent } from './testing.ts';

describe('processing one request', () => {
  it('splits the events into records and dead letters, in order, one answer entry per refusal', () => {
    const now = Date.now();
    const events = [sampleEvent('heartbeat'), { kind: 'pause' }, sampleEvent('seek'), 'x'];
    const letters = deadLetterCodec();
    const topics = { events: 'ev', eventsDlq: 'dlq' };
    const out = processEvents(
      events,
      eventSteps({
        validate: {
          receivedAt: now,
          clockSkewMs: 0,
          clock: { maxSkewMs: 1, maxFutureMs: 60_000, maxPastMs: 60_000 },
          pathOf: (i) => `$.events[${i}]`,
        },
        enrich: {
          receivedAt: now,
          clockSkewMs: 0,
          userAgent: null,
          ip: { isp: 'i', region: 'r', country: 'ZZ' },
          ingestKeyId: 'k',
        },
        eventEncoder: eventCodec(),
        topics,
      }),
      {
        deadLetterEncoder: letters,
        topics,
        failedAt: now,
        ingestKeyId: 'k',
        rawPayloadOf: (i) => Buffer.from(`raw${i}`),
      },
    );
    expect(out.records.map((r) => r.topic)).toEqual(['ev', 'ev']);
    expect(out.rejections.map((r) => [r.index, r.path, r.code])).toEqual([
      [1, '$.events[1].sessionId', 'missing_field'],
      [3, '$.events[3]', 'not_an_object'],
    ]);
    expect(out.deadLetters.map((r) => letters.decode(r.value).payload.toString())).toEqual(['raw1', 'raw3']);
    expect(out.deadLetters.map((r) => r.topic)).toEqual(['dlq', 'dlq']);
  });
});
