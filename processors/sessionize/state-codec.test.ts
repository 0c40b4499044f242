import { describe, expect, it } from 'vitest';
import { CHUNK_MAX_ENTRIES, ChunkWriter, EntryKind, encodeChunks, readChunk } from './state-codec.ts';

describe('checkpoint chunk codec', () => {
  it('round-trips plain values exactly, shapes and strings shared', () => {
    const view = {
      sessionId: 's-1',
      isp: 'AS3320',
      n: 0,
      neg: -5,
      big: 1_795_698_765_759,
      huge: 2 ** 60,
      frac: 0.1 + 0.2,
      nan: Number.NaN,
      inf: Number.NEGATIVE_INFINITY,
      negZero: -0,
      t: true,
      f: false,
      nothing: null,
      missing: undefined,
      list: [1, 'AS3320', [2, { a: 'é😀' }]],
    };
    const w = new ChunkWriter(16);
    w.entry(EntryKind.Session, view);
    w.entry(EntryKind.Session, { ...view, sessionId: 's-2' });
    w.entry(EntryKind.Gone, 's-3');
    w.entry(EntryKind.Tombstone, { lastSeq: 7, skipped: null });
    const bytes = w.finish();
    const out = [...readChunk(bytes)];
    expect(out.map((e) => e.kind)).toEqual([1, 1, 3, 2]);
    expect(out[0]!.value).toEqual(view);
    expect(Object.is((out[0]!.value as { negZero: number }).negZero, -0)).toBe(true);
    expect(out[1]!.value).toEqual({ ...view, sessionId: 's-2' });
    expect(out[2]!.value).toBe('s-3');
    expect(out[3]!.value).toEqual({ lastSeq: 7, skipped: null });
    // The second view repeats no key and no repeated string: far smaller than the first.
    const one = new ChunkWriter();
    one.entry(EntryKind.Session, view);
    expect(bytes.length - one.bytes - 12).toBeLessThan(one.bytes * 0.6);
    expect(w.entries).toBe(4);
  });

  it('writes own properties only (decoded Avro records inherit enumerable methods)', () => {
    class Rec {
      a = 1;
    }
    Object.defineProperty(Rec.prototype, 'clone', { value: () => 0, enumerable: true });
    const w = new ChunkWriter();
    w.entry(EntryKind.Session, new Rec());
    expect([...readChunk(w.finish())][0]!.value).toEqual({ a: 1 });
  });

  it('writes integers at the varint width boundaries byte for byte (small-integer fast path)', () => {
    const w = new ChunkWriter();
    w.entry(EntryKind.Session, [0, 63, 64, 8191, 8192, -1]);
    // kind, array of 6, then each Int: zig-zag 0, 126, 128, 16382, 16384, 1.
    expect([...w.finish()]).toEqual([
      1, 7, 6, 3, 0x00, 3, 0x7e, 3, 0x80, 0x01, 3, 0xfe, 0x7f, 3, 0x80, 0x80, 0x01, 3, 0x01,
    ]);
    const values = [-0, 0.5, 2 ** 31, -(2 ** 31), 2 ** 50, 2 ** 50 - 1, 1_795_698_765_759];
    for (let i = -20_000; i <= 20_000; i += 7) values.push(i);
    const all = new ChunkWriter();
    all.entry(EntryKind.Session, values);
    const back = [...readChunk(all.finish())][0]!.value as number[];
    expect(back).toEqual(values);
    expect(Object.is(back[0], -0)).toBe(true);
  });

  it('writes short and long, ASCII and non-ASCII strings, and many shapes, exactly', () => {
    const strings = ['', 'a', 'AS3320', 'x'.repeat(32), 'y'.repeat(33), 'é', 'ascii-then-é', '😀'.repeat(20)];
    // More distinct shapes than are compiled: the rest take the generic loop.
    const objects = Array.from({ length: 400 }, (_, i) => ({ [`k${i}`]: strings[i % strings.length], n: i }));
    const entries = objects.map((value) => ({ kind: EntryKind.Session, value }));
    const out: unknown[] = [];
    for (const c of encodeChunks(entries)) for (const e of readChunk(c.bytes)) out.push(e.value);
    expect(out).toEqual(objects);
  });

  it('splits into chunks of bounded size, each readable on its own', () => {
    const n = CHUNK_MAX_ENTRIES * 2 + 5;
    const entries = Array.from({ length: n }, (_, i) => ({
      kind: EntryKind.Session,
      value: { sessionId: `s-${i}`, isp: i % 2 === 0 ? 'AS3320' : 'AS7922', n: i },
    }));
    const sizes: number[] = [];
    const out: unknown[] = [];
    // The chunk bytes are reused: read each before taking the next.
    for (const c of encodeChunks(entries)) {
      sizes.push(c.entries);
      for (const e of readChunk(c.bytes)) out.push(e.value);
    }
    expect(sizes.length).toBeGreaterThan(2);
    expect(sizes.every((k) => k <= CHUNK_MAX_ENTRIES)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
    expect(out).toEqual(entries.map((e) => e.value));
  });
});
