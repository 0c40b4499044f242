/**
 * A faster encoder for the records kafkajs 2.2.4 produces (Kafka record format v2, KIP-98),
 * the companion of kafkajs-record-decoder.ts on the producing side.
 *
 * kafkajs encodes each record into a fresh zero-filled 512-byte Encoder, sizes and writes the
 * timestamp delta with its BigInt-backed Long (several BigInts per byte), and allocates a
 * Buffer per varint it writes. In the processors benchmark, producing the session summaries
 * took about 5% of the JavaScript thread that way (`bench/processors.ts --profile`:
 * recordBatch/record/v0/index.js), more than decoding all the events it consumed.
 *
 * This encoder writes a record without headers straight into one Buffer of its exact size,
 * the same bytes kafkajs writes (checked byte for byte against kafkajs' encoder in the
 * test), and hands it back as a kafkajs Encoder, which is what kafkajs' RecordBatch takes.
 * Records with headers, or a timestamp delta that is not a safe integer, go to kafkajs' own
 * encoder unchanged.
 *
 * Installed like the decoder: in place of `recordBatch/record/v0/index.js` in the CommonJS
 * module cache, before kafkajs' produce request (loaded on the first produce) requires it.
 */
import { createRequire } from 'node:module';
import { swapKafkajsModule } from './kafkajs-module-swap.ts';

interface KafkaEncoder {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
}

type RecordValue = Buffer | string | null | undefined;

export interface RecordInput {
  readonly offsetDelta?: number;
  readonly timestampDelta?: number;
  readonly key?: RecordValue;
  readonly value?: RecordValue;
  readonly headers?: Readonly<Record<string, unknown>>;
}

export type RecordEncoder = (record: RecordInput) => KafkaEncoder;

const require = createRequire(import.meta.url);
const MODULE = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
/** The module that captures the record encoder when it loads. */
const PRODUCE_MODULE = 'kafkajs/src/protocol/requests/produce/v3/request.js';
const INSTALLED = Symbol.for('playloop.kafkajs.fast-record-encoder');
/** Zig-zag doubles the magnitude: beyond this, number arithmetic could lose bits. */
const MAX_FAST_DELTA = 2 ** 51;

/** Bytes of an unsigned varint (LEB128) of a non-negative integer below 2^53. */
function uvarintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeUVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 128) {
    buf[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

/** Zig-zag (as kafkajs' encodeZigZag and encodeZigZag64), for integers within ±2^51. */
const zigzag = (n: number): number => (n >= 0 ? 2 * n : -2 * n - 1);

/** Bytes of a value as kafkajs writes it (writeVarIntBytes): Buffers as they are, else UTF-8. */
function bytesOf(v: RecordValue): Buffer | null {
  if (v === null || v === undefined) return null;
  return Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');
}

const sizeOfBytes = (b: Buffer | null): number => (b === null ? 1 : uvarintSize(zigzag(b.length)) + b.length);

function writeBytes(buf: Buffer, at: number, b: Buffer | null): number {
  if (b === null) return writeUVarint(buf, at, zigzag(-1));
  at = writeUVarint(buf, at, zigzag(b.length));
  b.copy(buf, at);
  return at + b.length;
}

/** The replacement for kafkajs' recordBatch/record/v0/index.js. */
export function createRecordEncoder(original: RecordEncoder): RecordEncoder {
  const Encoder = require('kafkajs/src/protocol/encoder.js') as new (size?: number) => KafkaEncoder;
  return (record) => {
    const { offsetDelta = 0, timestampDelta = 0, headers } = record;
    if (
      (headers !== undefined && Object.keys(headers).length > 0) ||
      !Number.isSafeInteger(timestampDelta) ||
      Math.abs(timestampDelta) >= MAX_FAST_DELTA ||
      !Number.isSafeInteger(offsetDelta) ||
      offsetDelta < 0 ||
      offsetDelta > 0x3fffffff
    ) {
      return original(record);
    }
    const key = bytesOf(record.key);
    const value = bytesOf(record.value);
    const ts = zigzag(timestampDelta);
    const od = zigzag(offsetDelta);
    // attributes (1) + timestampDelta + offsetDelta + key + value + header count (0: 1 byte)
    const body = 1 + uvarintSize(ts) + uvarintSize(od) + sizeOfBytes(key) + sizeOfBytes(value) + 1;
    const lengthPrefix = zigzag(body);
    const buf = Buffer.allocUnsafe(uvarintSize(lengthPrefix) + body);
    let at = writeUVarint(buf, 0, lengthPrefix);
    buf[at++] = 0; // attributes: unused in record format v2
    at = writeUVarint(buf, at, ts);
    at = writeUVarint(buf, at, od);
    at = writeBytes(buf, at, key);
    at = writeBytes(buf, at, value);
    buf[at++] = 0; // no headers
    const encoder = new Encoder(0);
    encoder.buf = buf;
    encoder.offset = at;
    return encoder;
  };
}

/**
 * Puts the fast encoder in place of kafkajs' (idempotent). Returns whether it is the one
 * kafkajs' produce request will use: false when that request was loaded before this ran.
 */
export function installFastRecordEncoder(): boolean {
  return swapKafkajsModule<RecordEncoder>({
    module: MODULE,
    capturedBy: PRODUCE_MODULE,
    marker: INSTALLED,
    replacement: (original) => createRecordEncoder(original),
  });
}
