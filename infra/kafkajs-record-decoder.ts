/**
 * A faster decoder for kafkajs 2.2.4 record batches (the Kafka v2 message format, KIP-98),
 * the hottest kafkajs code in a consuming processor.
 *
 * kafkajs decodes each record through a fresh Decoder over a Buffer slice of the record and
 * computes the record's offset and timestamp with its BigInt-backed Long:
 * `Long.fromValue(firstOffset).add(delta).toString()`, parsing the batch's base offset from its
 * decimal string again for every record, twice (offset and timestamp), plus a BigInt per byte
 * of the timestamp delta. In the processors benchmark that was about 12% of the JavaScript
 * thread (`bench/processors.ts --profile`: decodeRecord, Long.fromString, FastBuffer).
 *
 * This decoder reads the records straight from the batch buffer with a cursor and adds the
 * deltas to the base offset and timestamp as numbers when the sum is a safe integer (every
 * offset and epoch-millisecond timestamp in practice; it falls back to BigInt otherwise). It
 * returns exactly what kafkajs' own decoder returns, field for field: the same strings, key
 * and value as views of the fetched bytes (no copies, as before), the same header object, the
 * same batch context, so nothing above it (Batch, the consumer, the processors) can tell.
 * The batch header and compressed batches go through kafkajs' own Decoder and codecs.
 *
 * Installed by putting this function in place of `recordBatch/v0/decoder.js` in the CommonJS
 * module cache before kafkajs' fetch response decoder first requires it (kafkajs loads the
 * fetch protocol lazily, on the first fetch); createKafka does it before building a client.
 * If the fetch decoder was loaded already, nothing is replaced and kafkajs' own decoder stays.
 */
import { createRequire } from 'node:module';
import { swapKafkajsModule } from './kafkajs-module-swap.ts';

interface KafkaDecoder {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readInt16(): number;
  readInt32(): number;
  readInt64(): { toString(): string };
  slice(size: number): KafkaDecoder;
  forward(size: number): void;
  readAll(): Buffer;
}

interface HeaderEntry {
  readonly key: string;
  readonly value: Buffer | null;
}

interface Codec {
  decompress(buffer: Buffer): Promise<Buffer>;
}

export interface RecordContext {
  readonly firstOffset: string;
  readonly firstTimestamp: string;
  readonly partitionLeaderEpoch: number;
  readonly inTransaction: boolean;
  readonly isControlBatch: boolean;
  readonly lastOffsetDelta: number;
  readonly producerId: string;
  readonly producerEpoch: number;
  readonly firstSequence: number;
  readonly maxTimestamp: string;
  readonly timestampType: number;
  readonly magicByte: number;
}

export interface DecodedRecord {
  readonly magicByte: number;
  readonly attributes: number;
  readonly timestamp: string;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Record<string, Buffer | null | Array<Buffer | null>>;
  readonly isControlRecord: boolean;
  readonly batchContext: RecordContext;
}

export type RecordBatchDecoder = (
  fetchDecoder: KafkaDecoder,
) => Promise<Omit<RecordContext, 'magicByte'> & { records: DecodedRecord[] }>;

const require = createRequire(import.meta.url);
const MODULE = 'kafkajs/src/protocol/recordBatch/v0/decoder.js';
/** The module that captures the batch decoder when it loads (fetch v4..v11 share it). */
const FETCH_MODULE = 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js';
const INSTALLED = Symbol.for('playloop.kafkajs.fast-record-decoder');

const TIMESTAMP_TYPE_FLAG_MASK = 0x8;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
/** kafkajs/src/protocol/timestampTypes.js */
const CREATE_TIME = 0;
const LOG_APPEND_TIME = 1;

/** Cursor over one buffer: the records of a batch. */
class Cursor {
  offset = 0;
  constructor(readonly buffer: Buffer) {}

  /** Zig-zag varint, 32-bit, as kafkajs' Decoder.readVarInt. */
  varInt(): number {
    const b = this.buffer;
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = b[this.offset++]!;
      result += (byte & 0x7f) << shift;
      shift += 7;
    } while (byte >= 0x80);
    return (result >>> 1) ^ -(result & 1);
  }

  /**
   * Zig-zag varlong as a number when it is a safe integer (deltas always are), else as a
   * bigint; kafkajs' Decoder.readVarLong semantics.
   */
  varLong(): number | bigint {
    const b = this.buffer;
    const start = this.offset;
    let result = 0;
    let scale = 1;
    let byte: number;
    do {
      byte = b[this.offset++]!;
      result += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte >= 0x80 && scale <= 2 ** 49);
    if (byte < 0x80) return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
    // More than 7 bytes: exact arithmetic.
    this.offset = start;
    let big = 0n;
    let bigShift = 0n;
    do {
      if (bigShift > 63n) throw new RangeError('Invalid Long, must contain 9 bytes or less');
      byte = b[this.offset++]!;
      big |= BigInt(byte & 0x7f) << bigShift;
      bigShift += 7n;
    } while (byte >= 0x80);
    big = BigInt.asUintN(64, big);
    return BigInt.asIntN(64, (big >> 1n) ^ -(big & 1n));
  }

  bytes(): Buffer | null {
    const length = this.varInt();
    if (length === -1) return null;
    const start = this.offset;
    this.offset += length;
    return this.buffer.subarray(start, start + length);
  }

  string(): string | null {
    const length = this.varInt();
    if (length === -1) return null;
    const start = this.offset;
    this.offset += length;
    return this.buffer.toString('utf8', start, start + length);
  }
}

/** base + delta as the decimal string kafkajs' Long gives. */
function addToDecimal(base: number, baseText: string, delta: number | bigint): string {
  if (typeof delta === 'number') {
    const sum = base + delta;
    if (Number.isSafeInteger(base) && Number.isSafeInteger(sum)) return String(sum);
    return String(BigInt(baseText) + BigInt(delta));
  }
  return String(BigInt.asIntN(64, BigInt(baseText) + delta));
}

/** Header objects as kafkajs builds them: a repeated key collects its values in an array. */
function headersOf(entries: readonly HeaderEntry[]): Record<string, Buffer | null | Array<Buffer | null>> {
  const out: Record<string, Buffer | null | Array<Buffer | null>> = {};
  for (const { key, value } of entries) {
    const seen = out[key];
    out[key] = seen === undefined ? value : Array.isArray(seen) ? seen.concat([value]) : [seen, value];
  }
  return out;
}

function decodeRecord(cursor: Cursor, context: RecordContext, base: number, baseTs: number): DecodedRecord {
  const length = cursor.varInt();
  const end = cursor.offset + length;
  const attributes = cursor.buffer.readInt8(cursor.offset++);
  const timestampDelta = cursor.varLong();
  const timestamp =
    context.timestampType === LOG_APPEND_TIME && context.maxTimestamp
      ? context.maxTimestamp
      : addToDecimal(baseTs, context.firstTimestamp, timestampDelta);
  const offsetDelta = cursor.varInt();
  const offset = addToDecimal(base, context.firstOffset, offsetDelta);
  const key = cursor.bytes();
  const value = cursor.bytes();
  const count = cursor.varInt();
  let headers: Record<string, Buffer | null | Array<Buffer | null>> = {};
  if (count > 0) {
    const entries: HeaderEntry[] = [];
    for (let i = 0; i < count; i++) {
      // kafkajs reads a header key with readVarIntString: null for length -1.
      const k = cursor.string();
      entries.push({ key: k as string, value: cursor.bytes() });
    }
    headers = headersOf(entries);
  }
  // A record's length covers all of it: anything a newer format appends is skipped, as kafkajs
  // does by decoding each record from a slice of exactly that length.
  cursor.offset = end;
  return {
    magicByte: context.magicByte,
    attributes,
    timestamp,
    offset,
    key,
    value,
    headers,
    isControlRecord: context.isControlBatch,
    batchContext: context,
  };
}

function decodeRecords(
  buffer: Buffer,
  start: number,
  count: number,
  context: RecordContext,
): DecodedRecord[] {
  const cursor = new Cursor(buffer);
  cursor.offset = start;
  const base = Number(context.firstOffset);
  const baseTs = Number(context.firstTimestamp);
  const records = new Array<DecodedRecord>(count);
  for (let i = 0; i < count; i++) records[i] = decodeRecord(cursor, context, base, baseTs);
  return records;
}

/** The replacement for kafkajs' recordBatch/v0/decoder.js, built on kafkajs' own helpers. */
export function createRecordBatchDecoder(): RecordBatchDecoder {
  const { KafkaJSPartialMessageError } = require('kafkajs/src/errors.js') as {
    KafkaJSPartialMessageError: new (message: string) => Error;
  };
  const { lookupCodecByAttributes } = require('kafkajs/src/protocol/message/compression/index.js') as {
    lookupCodecByAttributes: (attributes: number) => Codec | null;
  };
  return async (fetchDecoder) => {
    const firstOffset = fetchDecoder.readInt64().toString();
    const length = fetchDecoder.readInt32();
    const decoder = fetchDecoder.slice(length);
    fetchDecoder.forward(length);
    if (decoder.buffer.length < length) {
      throw new KafkaJSPartialMessageError(
        `Tried to decode a partial record batch: remainingBytes(${decoder.buffer.length}) < recordBatchLength(${length})`,
      );
    }
    const partitionLeaderEpoch = decoder.readInt32();
    const magicByte = decoder.readInt8();
    decoder.readInt32(); // CRC: kafkajs does not check it either
    const attributes = decoder.readInt16();
    const lastOffsetDelta = decoder.readInt32();
    const firstTimestamp = decoder.readInt64().toString();
    const maxTimestamp = decoder.readInt64().toString();
    const producerId = decoder.readInt64().toString();
    const producerEpoch = decoder.readInt16();
    const firstSequence = decoder.readInt32();
    const recordContext = {
      firstOffset,
      firstTimestamp,
      partitionLeaderEpoch,
      inTransaction: (attributes & TRANSACTIONAL_FLAG_MASK) > 0,
      isControlBatch: (attributes & CONTROL_FLAG_MASK) > 0,
      lastOffsetDelta,
      producerId,
      producerEpoch,
      firstSequence,
      maxTimestamp,
      timestampType: (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? LOG_APPEND_TIME : CREATE_TIME,
    };
    const context: RecordContext = { ...recordContext, magicByte };
    const count = decoder.readInt32();
    let records: DecodedRecord[];
    if (count <= 0) {
      records = [];
    } else {
      const codec = lookupCodecByAttributes(attributes);
      if (codec === null) {
        records = decodeRecords(decoder.buffer, decoder.offset, count, context);
      } else {
        const decompressed = await codec.decompress(decoder.readAll());
        records = decodeRecords(decompressed, 0, count, context);
      }
    }
    return { ...recordContext, records };
  };
}

/**
 * Puts the fast decoder in place of kafkajs' (idempotent). Returns whether it is the one
 * kafkajs' fetch path will use: false when the fetch decoder was loaded before this ran.
 */
export function installFastRecordDecoder(): boolean {
  return swapKafkajsModule<RecordBatchDecoder>({
    module: MODULE,
    capturedBy: FETCH_MODULE,
    marker: INSTALLED,
    replacement: () => createRecordBatchDecoder(),
  });
}
