import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  createRecordBatchDecoder,
  installFastRecordDecoder,
  type RecordBatchDecoder,
} from './kafkajs-record-decoder.ts';

const require = createRequire(import.meta.url);

interface Encoded {
  readonly buffer: Buffer;
}
interface LongClass {
  fromValue(v: string | number | bigint): unknown;
}
type Compression = { readonly None: number; readonly GZIP: number };

// kafkajs' own encoder and decoder are the reference: what the broker sends is what kafkajs'
// producer writes (record batch v2, KIP-98), and the fast decoder must return exactly what
// kafkajs' decoder returns for it.
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (o: Record<string, unknown>) => Promise<Encoded>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (
  o: Record<string, unknown>,
) => unknown;
const Long = require('kafkajs/src/utils/long.js') as LongClass;
const { Types: CompressionTypes } = require('kafkajs/src/protocol/message/compression/index.js') as {
  Types: Compression;
};
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown;
const original = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as RecordBatchDecoder;

interface Spec {
  readonly firstOffset: string;
  readonly firstTimestamp: number;
  readonly compression?: number;
  readonly records: ReadonlyArray<{
    offsetDelta: number;
    timestampDelta: number;
    key: Buffer | null;
    value: Buffer | null;
    headers?: Record<string, Buffer | string | Array<Buffer | string>>;
  }>;
}

async function encode(spec: Spec): Promise<Buffer> {
  const batch = await RecordBatch({
    compression: spec.compression ?? CompressionTypes.None,
    firstOffset: Long.fromValue(spec.firstOffset),
    firstTimestamp: spec.firstTimestamp,
    maxTimestamp: spec.firstTimestamp + 1_000,
    lastOffsetDelta: spec.records.length - 1,
    producerId: Long.fromValue(7),
    records: spec.records.map((r) => Record(r)),
  });
  return batch.buffer;
}

async function both(bytes: Buffer): Promise<[unknown, unknown]> {
  const fast = createRecordBatchDecoder();
  return [
    await original(new Decoder(bytes) as Parameters<RecordBatchDecoder>[0]),
    await fast(new Decoder(bytes) as Parameters<RecordBatchDecoder>[0]),
  ];
}

const value = (n: number): Buffer => Buffer.from(`value-${n}-${'x'.repeat(n % 50)}`);

describe('fast record batch decoder', () => {
  it('returns what kafkajs returns for a plain batch', async () => {
    const records = Array.from({ length: 500 }, (_, i) => ({
      offsetDelta: i,
      timestampDelta: i * 37,
      key: Buffer.from(`session-${i % 17}`),
      value: value(i),
    }));
    const [a, b] = await both(
      await encode({ firstOffset: '123456', firstTimestamp: 1_795_000_000_000, records }),
    );
    expect(b).toEqual(a);
    const decoded = b as { records: Array<{ offset: string; timestamp: string; value: Buffer }> };
    expect(decoded.records[499]?.offset).toBe('123955');
    expect(decoded.records[3]?.timestamp).toBe(String(1_795_000_000_000 + 3 * 37));
    expect(decoded.records[3]?.value.toString()).toBe(value(3).toString());
  });

  it('matches on null keys and values, headers (repeated ones too) and empty buffers', async () => {
    const records = [
      { offsetDelta: 0, timestampDelta: 0, key: null, value: null },
      { offsetDelta: 1, timestampDelta: 5, key: Buffer.alloc(0), value: Buffer.alloc(0) },
      {
        offsetDelta: 2,
        timestampDelta: 9,
        key: Buffer.from('k'),
        value: Buffer.from('v'),
        headers: { trace: 'abc', multi: ['1', '2', '3'], bin: Buffer.from([0, 1, 2]) },
      },
    ];
    const [a, b] = await both(await encode({ firstOffset: '0', firstTimestamp: 1_000, records }));
    expect(b).toEqual(a);
  });

  it('is exact for offsets beyond 2^53 and negative timestamp deltas', async () => {
    const records = Array.from({ length: 20 }, (_, i) => ({
      offsetDelta: i,
      timestampDelta: -i * 1_000,
      key: Buffer.from(`k${i}`),
      value: value(i),
    }));
    const big = String(2n ** 53n - 5n);
    const [a, b] = await both(await encode({ firstOffset: big, firstTimestamp: 1_795_000_000_000, records }));
    expect(b).toEqual(a);
    expect((b as { records: Array<{ offset: string }> }).records[19]?.offset).toBe(String(2n ** 53n + 14n));
  });

  it('matches on a timestamp delta wider than 49 bits and a missing (-1) base timestamp', async () => {
    const records = [
      { offsetDelta: 0, timestampDelta: 2 ** 52 + 3, key: null, value: value(1) },
      { offsetDelta: 1, timestampDelta: 0, key: null, value: value(2) },
    ];
    const [a, b] = await both(await encode({ firstOffset: '42', firstTimestamp: -1, records }));
    expect(b).toEqual(a);
  });

  it('matches on a gzip-compressed batch', async () => {
    const records = Array.from({ length: 100 }, (_, i) => ({
      offsetDelta: i,
      timestampDelta: i,
      key: Buffer.from(`s${i}`),
      value: value(i),
    }));
    const [a, b] = await both(
      await encode({ firstOffset: '900', firstTimestamp: 5, compression: CompressionTypes.GZIP, records }),
    );
    expect(b).toEqual(a);
  });

  it('throws the partial-batch error kafkajs throws for a truncated batch', async () => {
    const bytes = await encode({
      firstOffset: '1',
      firstTimestamp: 1,
      records: [{ offsetDelta: 0, timestampDelta: 0, key: null, value: value(9) }],
    });
    const cut = bytes.subarray(0, bytes.length - 4);
    const fast = createRecordBatchDecoder();
    await expect(original(new Decoder(cut) as Parameters<RecordBatchDecoder>[0])).rejects.toMatchObject({
      name: 'KafkaJSPartialMessageError',
    });
    await expect(fast(new Decoder(cut) as Parameters<RecordBatchDecoder>[0])).rejects.toMatchObject({
      name: 'KafkaJSPartialMessageError',
    });
  });
});

describe('installFastRecordDecoder', () => {
  it("puts the fast decoder under kafkajs' fetch response decoding", async () => {
    expect(installFastRecordDecoder()).toBe(true);
    expect(installFastRecordDecoder()).toBe(true); // idempotent
    // kafkajs' fetch v4..v11 responses decode their record sets with this function.
    const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js') as (
      d: unknown,
    ) => Promise<Array<{ offset: string; value: Buffer }>>;
    const inUse = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as object;
    expect(inUse).not.toBe(original);
    expect(Object.getOwnPropertySymbols(inUse).map(String)).toContain(
      'Symbol(playloop.kafkajs.fast-record-decoder)',
    );
    const records = Array.from({ length: 50 }, (_, i) => ({
      offsetDelta: i,
      timestampDelta: i,
      key: Buffer.from(`k${i}`),
      value: value(i),
    }));
    const batches = Buffer.concat([
      await encode({ firstOffset: '1000', firstTimestamp: 7, records }),
      await encode({ firstOffset: '1050', firstTimestamp: 8, records }),
    ]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(batches.length);
    const messages = await decodeMessages(new Decoder(Buffer.concat([size, batches])));
    expect(messages.map((m) => m.offset)).toEqual(Array.from({ length: 100 }, (_, i) => String(1_000 + i)));
    expect(messages[51]?.value.toString()).toBe(value(1).toString());
  });
});
