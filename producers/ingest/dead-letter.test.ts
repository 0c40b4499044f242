import { describe, expect, it } from 'vitest';
import { deadLetterRecord, MAX_DEAD_LETTER_PAYLOAD_BYTES, sessionIdOf } from './dead-letter.ts';
import { deadLetterCodec } from './testing.ts';

describe('dead letters', () => {
  const codec = deadLetterCodec();
  const rejection = {
    code: 'out_of_range',
    path: '$.events[1].seq',
    reason: 'expected an integer from 0',
  } as const;

  it('carries the raw payload, the reason, the path, the index and the key id', () => {
    const payload = Buffer.from('{"sessionId":"s-1","seq":-1}');
    const record = deadLetterRecord(codec, 'dlq', 'events', {
      rejection,
      index: 1,
      payload,
      sessionId: 's-1',
      failedAt: 1_700_000_000_000,
      ingestKeyId: 'k_abc',
    });
    expect(record.topic).toBe('dlq');
    expect(record.key).toBe('s-1');
    expect(codec.decode(record.value)).toEqual({
      source: 'ingest',
      code: 'PLAYLOOP_INVALID_EVENT',
      reason: 'out_of_range: expected an integer from 0',
      path: '$.events[1].seq',
      failedAt: 1_700_000_000_000,
      payload,
      sessionId: 's-1',
      originTopic: 'events',
      originPartition: null,
      originOffset: null,
      batchIndex: 1,
      ingestKeyId: 'k_abc',
    });
  });

  it('cuts a huge payload so one hostile event cannot exceed Kafka message.max.bytes', () => {
    const payload = Buffer.alloc(MAX_DEAD_LETTER_PAYLOAD_BYTES + 10, 0x61);
    const record = deadLetterRecord(codec, 'dlq', 'events', {
      rejection,
      index: 0,
      payload,
      sessionId: null,
      failedAt: 1,
      ingestKeyId: 'k',
    });
    const letter = codec.decode(record.value);
    expect(letter.payload.length).toBe(MAX_DEAD_LETTER_PAYLOAD_BYTES);
    expect(letter.reason).toMatch(/cut to its first 262144 of 262154 bytes/);
    expect(record.key).toBeNull();
  });

  it('keys by the session id only when it is a usable one', () => {
    expect(sessionIdOf({ sessionId: 's' })).toBe('s');
    expect(sessionIdOf({ sessionId: 's'.repeat(65) })).toBeNull();
    expect(sessionIdOf({ sessionId: 5 })).toBeNull();
    expect(sessionIdOf({ sessionId: 'a\ud800' })).toBeNull();
    expect(sessionIdOf(['s'])).toBeNull();
    expect(sessionIdOf(null)).toBeNull();
  });
});
