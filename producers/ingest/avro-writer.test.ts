import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { type AvroWriter, compileAvroWriter, writeLong } from '../../infra/avro-writer.ts';
import { type DeadLetter, schema as deadLetterSchema } from '../../schemas/generated/dead-letter.ts';
import {
  EventKindValues,
  type PlaybackEvent,
  schema as playbackEventSchema,
} from '../../schemas/generated/playback-event.ts';
import { sampleEvent } from './testing.ts';
import { validateEvent } from './validate.ts';

const eventType = avro.Type.forSchema(playbackEventSchema as object as avro.Schema);

function compiled(type: avro.Type): AvroWriter {
  const w = compileAvroWriter(type);
  if (w === undefined) throw new Error('not compiled');
  return w;
}

/** avsc's bytes are the reference: the compiled writer must produce exactly them. */
function expectSameBytes(type: avro.Type, write: AvroWriter, value: unknown): void {
  const reference = type.toBuffer(value);
  const buf = Buffer.alloc(reference.length + 64, 0xaa);
  const end = write(buf, 3, value);
  expect(end - 3).toBe(reference.length);
  expect(buf.subarray(3, end).equals(reference)).toBe(true);
}

function validEvent(kind: (typeof EventKindValues)[number], seq: number): PlaybackEvent {
  const now = Date.now();
  const r = validateEvent({
    receivedAt: now,
    clockSkewMs: 0,
    clock: { maxSkewMs: 1, maxFutureMs: 60_000, maxPastMs: 60_000 },
    pathOf: (i) => `$.events[${i}]`,
  })({ index: 0, value: JSON.parse(JSON.stringify(sampleEvent(kind, { seq }))) });
  if (r.type !== 'ok') throw new Error(`sample ${kind} invalid: ${JSON.stringify(r)}`);
  return {
    ...r.value.value,
    server: {
      receivedAt: now,
      clockSkewMs: -seq,
      deviceClass: 'tv',
      isp: 'AS3320',
      region: 'eu-west',
      country: 'DE',
      ingestKeyId: 'k_0123456789ab',
    },
  };
}

/** mulberry32: a small seeded generator, so a failing case can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const PALETTE = [
  'a',
  'Z',
  '0',
  ' ',
  '"',
  '\\',
  '\n',
  'é',
  'ß',
  '€',
  '日',
  '😀',
  '\u007f',
  '\u0080',
  '\u07ff',
  '\u0800',
];

/** A random value valid for `type`, built from the parsed schema. */
function randomValue(type: avro.Type, random: () => number): unknown {
  const t = type as avro.Type & {
    typeName: string;
    fields?: Array<{ name: string; type: avro.Type }>;
    types?: avro.Type[];
    symbols?: string[];
    itemsType?: avro.Type;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  switch (t.typeName) {
    case 'null':
      return null;
    case 'boolean':
      return random() < 0.5;
    case 'int':
      return Math.max(
        -(2 ** 31),
        pick([0, -1, 1, 63, 64, -65, 2 ** 31 - 1, -(2 ** 31)]) -
          (random() < 0.5 ? 0 : Math.floor(random() * 1_000)),
      );
    case 'long': {
      const magnitude = 2 ** Math.floor(random() * 53);
      return Math.max(
        -9_007_199_254_740_990,
        Math.min(9_007_199_254_740_990, Math.floor((random() - 0.5) * 2 * magnitude)),
      );
    }
    case 'string': {
      let s = '';
      const n = pick([0, 1, 5, 63, 64, 65, 200]);
      while (s.length < n) s += random() < 0.7 ? 'abcxyz-_.'.charAt(Math.floor(random() * 9)) : pick(PALETTE);
      return s;
    }
    case 'enum':
      return pick(t.symbols ?? []);
    case 'array':
      return Array.from({ length: pick([0, 1, 3]) }, () => randomValue(t.itemsType as avro.Type, random));
    case 'union:unwrapped': {
      const branches = t.types ?? [];
      return randomValue(random() < 0.3 ? (branches[0] as avro.Type) : pick(branches), random);
    }
    case 'record': {
      const out: Record<string, unknown> = {};
      for (const f of t.fields ?? []) out[f.name] = randomValue(f.type, random);
      return out;
    }
    default:
      throw new Error(`no generator for ${t.typeName}`);
  }
}

describe('compiled Avro writer', () => {
  const write = compiled(eventType);

  it('writes the bytes avsc writes for every event kind', () => {
    EventKindValues.forEach((kind, i) => {
      expectSameBytes(eventType, write, validEvent(kind, i));
    });
  });

  it('writes strings, ints and longs at their edges as avsc does', () => {
    const base = validEvent('heartbeat', 1);
    const strings = [
      '',
      'a',
      'é',
      'x'.repeat(63),
      'x'.repeat(64),
      'ü'.repeat(63),
      '日本語',
      '😀 pair',
      'y'.repeat(3_000),
    ];
    for (const s of strings) {
      expectSameBytes(eventType, write, { ...base, viewerId: s, device: { ...base.device, model: s } });
    }
    for (const seq of [0, 1, -1, 63, 64, -64, -65, 2 ** 31 - 1, -(2 ** 31)]) {
      expectSameBytes(eventType, write, { ...base, seq });
    }
    const longs = [0, 2 ** 30 - 1, 2 ** 30, -(2 ** 30), -(2 ** 30) - 1, 2 ** 31, 2 ** 40 + 7, -(2 ** 40) - 7];
    for (const t of [...longs, 9_007_199_254_740_990, -9_007_199_254_740_990]) {
      expectSameBytes(eventType, write, { ...base, clientTs: t, playheadMs: t });
    }
    expectSameBytes(eventType, write, {
      ...base,
      experiments: Array.from({ length: 40 }, (_, i) => ({ key: `exp-${i}`, cell: 'treatment' })),
    });
  });

  it('matches avsc on a dead letter (bytes, long, nullable fields)', () => {
    const type = avro.Type.forSchema(deadLetterSchema as object as avro.Schema);
    const letter: DeadLetter = {
      source: 'ingest',
      code: 'PLAYLOOP_INVALID_EVENT',
      reason: 'out_of_range: no',
      path: '$.events[3].seq',
      failedAt: 1_700_000_000_000,
      payload: Buffer.from('{"seq":-5, "é": 1}'),
      sessionId: null,
      originTopic: 'playback.events',
      originPartition: null,
      originOffset: null,
      batchIndex: 3,
      ingestKeyId: 'k_0123456789ab',
    };
    expectSameBytes(type, compiled(type), letter);
    expectSameBytes(type, compiled(type), {
      ...letter,
      sessionId: 's',
      originPartition: 2,
      originOffset: '35184372088832',
    });
  });

  it('handles maps, general unions, defaults and recursive records like avsc', () => {
    const type = avro.Type.forSchema({
      type: 'record',
      name: 'Node',
      fields: [
        { name: 'label', type: 'string', default: 'none' },
        { name: 'weight', type: ['null', 'double'], default: null },
        { name: 'tags', type: { type: 'map', values: 'int' } },
        { name: 'any', type: ['null', 'string', 'long', 'boolean'] },
        { name: 'ratio', type: 'float' },
        { name: 'color', type: { type: 'enum', name: 'Color', symbols: ['RED', 'GREEN'] } },
        { name: 'next', type: ['null', 'Node'], default: null },
      ],
    } as avro.Schema);
    const w = compiled(type);
    const leaf = { tags: {}, any: null, ratio: 0.5, color: 'GREEN' };
    expectSameBytes(type, w, leaf);
    expectSameBytes(type, w, {
      label: 'root',
      weight: 1.25,
      tags: { a: 1, b: -300 },
      any: 12,
      ratio: 3,
      color: 'RED',
      next: { ...leaf, any: 'text', next: { ...leaf, any: true } },
    });
  });

  it('writes the bytes avsc writes for 2,000 random values of the contract (seed 42)', () => {
    const random = seeded(42);
    for (let i = 0; i < 2_000; i++) {
      const value = randomValue(eventType, random);
      expect(eventType.isValid(value)).toBe(true);
      expectSameBytes(eventType, write, value);
    }
  });

  it('throws on a value that does not fit, as avsc does', () => {
    const base = validEvent('heartbeat', 1);
    const bad: unknown[] = [
      { ...base, seq: 2 ** 40 },
      { ...base, seq: 1.5 },
      { ...base, clientTs: 2 ** 60 },
      { ...base, clientTs: Number.MAX_SAFE_INTEGER },
      { ...base, clientTs: Number.NaN },
      { ...base, kind: 'nope' },
      { ...base, sessionId: 7 },
      { ...base, device: null },
      { ...base, experiments: 'x' },
      { ...base, heartbeat: { ...base.heartbeat, bufferMs: '1' } },
    ];
    for (const value of bad) {
      expect(eventType.isValid(value)).toBe(false);
      expect(() => write(Buffer.alloc(4_096), 0, value)).toThrow(TypeError);
    }
  });

  it('reports the end past a buffer too small, and writes the same bytes in a large one', () => {
    const e = validEvent('segment_downloaded', 5);
    const reference = eventType.toBuffer(e);
    const small = Buffer.alloc(20);
    expect(write(small, 0, e)).toBe(reference.length);
    expectSameBytes(eventType, write, e);
  });

  it('writes longs as zig-zag varints (Avro 1.11, Binary Encoding, examples)', () => {
    // The specification's table: 0 -> 00, -1 -> 01, 1 -> 02, -2 -> 03, 2 -> 04, -64 -> 7f, 64 -> 80 01.
    const cases: Array<[number, number[]]> = [
      [0, [0x00]],
      [-1, [0x01]],
      [1, [0x02]],
      [-2, [0x03]],
      [2, [0x04]],
      [-64, [0x7f]],
      [64, [0x80, 0x01]],
    ];
    for (const [n, bytes] of cases) {
      const buf = Buffer.alloc(10);
      const end = writeLong(buf, 0, n);
      expect([...buf.subarray(0, end)]).toEqual(bytes);
    }
  });
});
