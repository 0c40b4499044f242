import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  createRecordEncoder,
  installFastRecordEncoder,
  type RecordEncoder,
  type RecordInput,
} from './kafkajs-record-encoder.ts';

const require = createRequire(import.meta.url);
// kafkajs' own record encoder is the reference: the bytes must be the same, byte for byte.
const original = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as RecordEncoder;
const fast = createRecordEncoder(original);

const cases: Array<[string, RecordInput]> = [
  ['buffers', { offsetDelta: 0, timestampDelta: 0, key: Buffer.from('session-1'), value: Buffer.from('v') }],
  ['null key', { offsetDelta: 3, timestampDelta: 17, key: null, value: Buffer.alloc(300, 7) }],
  ['missing key and value', { offsetDelta: 1, timestampDelta: 1 }],
  ['empty buffers', { offsetDelta: 2, timestampDelta: 2, key: Buffer.alloc(0), value: Buffer.alloc(0) }],
  ['strings (UTF-8)', { offsetDelta: 64, timestampDelta: 63, key: 'clé', value: 'valeur ✓'.repeat(40) }],
  ['negative timestamp delta', { offsetDelta: 9, timestampDelta: -1_234_567, key: 'k', value: 'v' }],
  [
    'large deltas',
    { offsetDelta: 1_000_000, timestampDelta: 2 ** 40 + 5, key: 'k', value: Buffer.alloc(20_000, 1) },
  ],
  ['empty headers', { offsetDelta: 5, timestampDelta: 5, key: 'k', value: 'v', headers: {} }],
];

describe('fast record encoder', () => {
  for (const [name, input] of cases) {
    it(`writes what kafkajs writes: ${name}`, () => {
      const want = original(input).buffer;
      const got = fast(input).buffer;
      expect(got.equals(want)).toBe(true);
    });
  }

  it('varint boundaries of every field', () => {
    for (const n of [0, 1, 63, 64, 127, 128, 8_191, 8_192, 16_383, 16_384, 1_048_575, 1_048_576]) {
      const input = {
        offsetDelta: n,
        timestampDelta: -n,
        key: Buffer.alloc(n % 200),
        value: Buffer.alloc(n % 9_000),
      };
      expect(fast(input).buffer.equals(original(input).buffer)).toBe(true);
    }
  });

  it("leaves records with headers to kafkajs' encoder", () => {
    const input = { key: 'k', value: 'v', headers: { trace: 'abc', multi: ['1', '2'] } };
    expect(fast(input).buffer.equals(original(input).buffer)).toBe(true);
  });

  it('is what kafkajs produce request encodes with, once installed', () => {
    expect(installFastRecordEncoder()).toBe(true);
    expect(installFastRecordEncoder()).toBe(true); // idempotent
    const inUse = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as object;
    expect(inUse).not.toBe(original);
    expect(Object.getOwnPropertySymbols(inUse).map(String)).toContain(
      'Symbol(playloop.kafkajs.fast-record-encoder)',
    );
  });
});
