import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { schema as abrConfigSchema } from '../schemas/generated/abr-config.ts';
import { schema as deadLetterSchema } from '../schemas/generated/dead-letter.ts';
import { schema as allocationSchema } from '../schemas/generated/experiment-allocation.ts';
import {
  EventKindValues,
  type PlaybackEvent,
  schema as playbackEventSchema,
} from '../schemas/generated/playback-event.ts';
import { schema as sessionSchema } from '../schemas/generated/playback-session.ts';
import { schema as steeringSchema } from '../schemas/generated/steering-config.ts';
import { generateWorkload } from '../tests/support/workload.ts';
import { type AvroReader, AvroReadMismatch, compileAvroReader } from './avro-reader.ts';
import { AvroCodec, type AvroSchemaJson } from './registry.ts';

/** Every schema playloop registers. */
const PLAYLOOP_SCHEMAS = [
  playbackEventSchema,
  sessionSchema,
  deadLetterSchema,
  allocationSchema,
  abrConfigSchema,
  steeringSchema,
];

const eventType = avro.Type.forSchema(playbackEventSchema as object as avro.Schema);

function compiled(type: avro.Type): AvroReader {
  const r = compileAvroReader(type);
  if (r === undefined) throw new Error('not compiled');
  return r;
}

/**
 * avsc's value is the reference: the same fields in the same order, the same record classes
 * (so the same prototype methods), the same numbers (NaN, -0 and infinities included).
 */
function expectSameValue(type: avro.Type, read: AvroReader, bytes: Buffer, at = 0): void {
  const reference = type.fromBuffer(bytes);
  // Read from inside a larger buffer, as from a Kafka message after the wire-format header.
  const framed = Buffer.concat([Buffer.alloc(at, 0xee), bytes]);
  const value = read(framed, at, framed.length);
  expect(value).toStrictEqual(reference);
  expect(JSON.stringify(value)).toBe(JSON.stringify(reference));
}

function workloadEvents(): PlaybackEvent[] {
  return generateWorkload({
    sessions: 400,
    seed: 7,
    startMs: Date.UTC(2026, 0, 1),
    spreadMs: 60_000,
    duplicateShare: 0.01,
  }).events;
}

describe('compiled Avro reader', () => {
  it('reads every event kind of the workload exactly as avsc does', () => {
    const read = compiled(eventType);
    const events = workloadEvents();
    const kinds = new Set(events.map((e) => e.kind));
    expect([...kinds].sort()).toEqual([...EventKindValues].sort());
    for (const e of events) expectSameValue(eventType, read, eventType.toBuffer(e), 5);
  });

  it('reads avsc random values of every playloop schema as avsc does (2,000 each)', () => {
    for (const schema of PLAYLOOP_SCHEMAS) {
      const type = avro.Type.forSchema(schema as object as avro.Schema);
      const read = compiled(type);
      for (let i = 0; i < 2_000; i++) expectSameValue(type, read, type.toBuffer(type.random()), i % 7);
    }
  });

  it('keeps strings exact through its per-field string tables', () => {
    const type = avro.Type.forSchema({
      type: 'record',
      name: 'S',
      fields: [
        { name: 'a', type: 'string' },
        { name: 'b', type: { type: 'map', values: 'string' } },
      ],
    });
    const read = compiled(type);
    const values = [
      '',
      'AS3320',
      'AS3320',
      'AS3321', // same length, one byte apart
      'ünïcödé',
      'ünïcödé',
      '😀 emoji',
      'x'.repeat(48),
      'x'.repeat(49),
      'y'.repeat(200),
    ];
    // More distinct same-length strings than a table has slots: collisions must be compared.
    for (let i = 0; i < 3_000; i++) values.push(`s-${i % 1_000}`);
    for (const a of values) expectSameValue(type, read, type.toBuffer({ a, b: { [a]: a, k: a } }));
    // Bytes that are not UTF-8 become U+FFFD, as avsc (Buffer#utf8Slice) makes them.
    const bad = Buffer.from([0x04, 0xff, 0xfe, 0x00]);
    expect(read(bad, 0, bad.length)).toEqual({ a: '\ufffd\ufffd', b: {} });
  });

  it('reads longs to avsc bound, multi-block arrays and maps, negative block counts', () => {
    const type = avro.Type.forSchema({
      type: 'record',
      name: 'N',
      fields: [
        { name: 'l', type: 'long' },
        { name: 'i', type: 'int' },
        { name: 'f', type: 'float' },
        { name: 'd', type: 'double' },
        { name: 'xs', type: { type: 'array', items: ['null', 'int', 'string'] } },
        { name: 'bs', type: 'bytes' },
      ],
    });
    const read = compiled(type);
    for (const l of [
      0,
      -1,
      63,
      -64,
      64,
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 53 - 2,
      -(2 ** 53) + 2,
      1_795_708_987_026,
    ]) {
      const value = { l, i: -7, f: 1.5, d: -0, xs: [null, 1, 'a'], bs: Buffer.from([1, 2, 3]) };
      expectSameValue(type, read, type.toBuffer(value));
    }
    // Around the one-, two- and three-byte varint boundaries (the reader inlines one and two).
    for (const i of [63, 64, -64, -65, 8191, 8192, -8192, -8193, 2 ** 31 - 1, -(2 ** 31)]) {
      const value = { l: i, i, f: 0, d: Number.NaN, xs: [i], bs: Buffer.alloc(0) };
      expectSameValue(type, read, type.toBuffer(value));
    }
    // avsc refuses longs past 2^53 - 2 ("potential precision loss"); so does the reader.
    const big = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f]); // zig-zag 2^53 - 1
    const rest = type.toBuffer({ l: 0, i: 0, f: 0, d: 0, xs: [], bs: Buffer.alloc(0) }).subarray(1);
    const tooBig = Buffer.concat([big, rest]);
    expect(() => type.fromBuffer(tooBig)).toThrow(/precision/);
    expect(() => read(tooBig, 0, tooBig.length)).toThrow(AvroReadMismatch);
    // Arrays in two blocks, the second with a negative count and its byte size.
    const head = type.toBuffer({ l: 1, i: 2, f: 0, d: 0, xs: [], bs: Buffer.alloc(0) });
    const prefix = head.subarray(0, head.length - 2); // up to the array's terminating 0
    // [count 1][int 1] then [count -1][size 3][string "a"], the terminating 0, empty bytes.
    const blocks = Buffer.from([0x02, 0x02, 0x02, 0x01, 0x06, 0x04, 0x02, 0x61, 0x00, 0x00]);
    const twoBlocks = Buffer.concat([prefix, blocks]);
    expectSameValue(type, read, twoBlocks);
    expect((type.fromBuffer(twoBlocks) as { xs: unknown[] }).xs).toEqual([1, 'a']);
  });

  it('refuses what avsc refuses: truncated, trailing, bad enum and union indexes', () => {
    const read = compiled(eventType);
    const good = eventType.toBuffer(workloadEvents()[0]);
    const cases = [
      good.subarray(0, good.length - 1),
      good.subarray(0, 10),
      Buffer.concat([good, Buffer.from([0])]),
      Buffer.alloc(0),
    ];
    // The kind enum: sessionId, seq, viewerId, titleId, clientTs come first.
    const badEnum = Buffer.from(good);
    const kindAt = kindOffset(good);
    badEnum[kindAt] = 0x7e; // index 63
    cases.push(badEnum);
    const badUnion = Buffer.from(good);
    badUnion[kindAt + 1] = 0x08; // playheadMs union index 4
    cases.push(badUnion);
    for (const bytes of cases) {
      expect(() => eventType.fromBuffer(bytes)).toThrow();
      expect(() => read(bytes, 0, bytes.length)).toThrow();
    }
  });

  it('returns undefined for schemas it does not compile (fixed)', () => {
    const type = avro.Type.forSchema({ type: 'fixed', name: 'F', size: 4 });
    expect(compileAvroReader(type)).toBeUndefined();
  });
});

/** Offset of the `kind` varint in an encoded playback event (after the first five fields). */
function kindOffset(bytes: Buffer): number {
  let p = 0;
  const varint = (): number => {
    let n = 0;
    let shift = 1;
    for (;;) {
      const b = bytes[p++]!;
      n += (b & 0x7f) * shift;
      if (b < 0x80) return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
      shift *= 128;
    }
  };
  const skipString = (): void => {
    const len = varint();
    p += len;
  };
  skipString(); // sessionId
  varint(); // seq
  skipString(); // viewerId
  skipString(); // titleId
  varint(); // clientTs
  return p;
}

/** A registry that holds schemas in memory: ids in registration order. */
function memoryRegistry(): SchemaRegistry {
  const types: avro.Type[] = [];
  const registry = {
    register: async (s: { schema: string }) => {
      types.push(avro.Type.forSchema(JSON.parse(s.schema) as avro.Schema));
      return { id: types.length };
    },
    getSchema: async (id: number) => {
      const type = types[id - 1];
      if (type === undefined) throw new Error(`no schema ${id}`);
      return type;
    },
  };
  return registry as unknown as SchemaRegistry;
}

describe('AvroCodec with the compiled reader', () => {
  it('decodes its own schema id through the compiled reader, equal to avsc', async () => {
    const codec = await AvroCodec.register<PlaybackEvent>(
      memoryRegistry(),
      'events',
      playbackEventSchema as AvroSchemaJson,
    );
    for (const e of workloadEvents().slice(0, 500)) {
      const wire = codec.encode(e);
      const reference = eventType.fromBuffer(wire.subarray(5));
      expect(JSON.stringify(codec.decodeOwn(wire))).toBe(JSON.stringify(reference));
      expect(codec.decodeOwn(wire)).toEqual(reference);
      expect(JSON.stringify(await codec.decode(wire))).toBe(JSON.stringify(reference));
    }
  });

  it('reports the error avsc reports for a malformed body', async () => {
    const codec = await AvroCodec.register<PlaybackEvent>(
      memoryRegistry(),
      'events',
      playbackEventSchema as AvroSchemaJson,
    );
    const wire = codec.encode(workloadEvents()[0]!);
    expect(() => codec.decodeOwn(wire.subarray(0, wire.length - 3))).toThrow('truncated buffer');
    expect(() => codec.decodeOwn(Buffer.concat([wire, Buffer.from([1])]))).toThrow('trailing data');
  });

  it('falls back to the resolving path for another writer schema id (schema evolution)', async () => {
    const registry = memoryRegistry();
    // An older writer schema: no `cmcd` field, which the current schema added with a default.
    const older = {
      ...playbackEventSchema,
      fields: playbackEventSchema.fields.filter((f) => f.name !== 'cmcd'),
    } as unknown as AvroSchemaJson;
    const v1 = await AvroCodec.register<Omit<PlaybackEvent, 'cmcd'>>(registry, 'events', older);
    const v2 = await AvroCodec.register<PlaybackEvent>(
      registry,
      'events',
      playbackEventSchema as AvroSchemaJson,
    );
    expect(v2.schemaId).not.toBe(v1.schemaId);
    const resolver = eventType.createResolver(avro.Type.forSchema(older as avro.Schema));
    for (const e of workloadEvents().slice(0, 200)) {
      const { cmcd: _dropped, ...old } = e;
      const wire = v1.encode(old);
      expect(v2.decodeOwn(wire)).toBeUndefined();
      const decoded = await v2.decode(wire);
      const reference = eventType.fromBuffer(wire.subarray(5), resolver);
      expect(decoded).toEqual(reference);
      expect(JSON.stringify(decoded)).toBe(JSON.stringify(reference));
      expect(decoded.cmcd).toBeNull();
    }
  });

  it('encodes with the compiled writer byte for byte as avsc, on 500 random values of every schema', async () => {
    for (const schema of PLAYLOOP_SCHEMAS) {
      const type = avro.Type.forSchema(schema as object as avro.Schema);
      const codec = await AvroCodec.register<unknown>(memoryRegistry(), 'x', schema as AvroSchemaJson);
      for (let i = 0; i < 500; i++) {
        const value = type.random();
        const wire = codec.encode(value);
        expect(wire.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, codec.schemaId]));
        expect(wire.subarray(5)).toEqual(type.toBuffer(value));
      }
    }
  });

  it('encodes a value larger than its scratch buffer, and values after it, whole', async () => {
    const codec = await AvroCodec.register<PlaybackEvent>(
      memoryRegistry(),
      'events',
      playbackEventSchema as AvroSchemaJson,
    );
    const [small, other] = workloadEvents();
    const large = { ...small!, titleId: 't'.repeat(100_000) };
    for (const e of [small!, large, other!]) {
      expect(codec.encode(e).subarray(5)).toEqual(eventType.toBuffer(e));
    }
  });

  it('names the bad path of a value that does not fit, as before', async () => {
    const codec = await AvroCodec.register<PlaybackEvent>(
      memoryRegistry(),
      'events',
      playbackEventSchema as AvroSchemaJson,
    );
    const bad = { ...workloadEvents()[0]!, seq: 'seven' } as unknown as PlaybackEvent;
    expect(() => codec.encode(bad)).toThrow(/value does not fit events-value: seq/);
  });
});
