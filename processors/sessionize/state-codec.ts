/**
 * A compact binary encoding of the sessionizer's checkpoint entries (plain data: objects,
 * arrays, strings, numbers, booleans, null). Checkpoints used to be one JSON document per
 * partition; with a million open sessions that was gigabytes of strings alive at once. Here
 * a checkpoint is a stream of chunks, each a self-contained byte string:
 *
 * - every object's keys are written once per chunk as a "shape" and referred to by number
 *   afterwards (the views all share one shape), so keys cost nothing per session;
 * - strings are written once per chunk and referred to by number afterwards (OCA ids, ISPs,
 *   titles, devices repeat across sessions);
 * - integers as zigzag varints (most counters fit in one or two bytes), other numbers
 *   (fractions, NaN, ±Infinity, epoch ms beyond 2^50) as IEEE float64, exactly.
 *
 * Pure: no I/O. Round trip is exact for the value types above (undefined included).
 */

const Tag = {
  Null: 0,
  False: 1,
  True: 2,
  Int: 3,
  Float: 4,
  NewString: 5,
  StringRef: 6,
  Array: 7,
  NewShape: 8,
  ShapeRef: 9,
  Undefined: 10,
} as const;

/** Integers up to this magnitude go as varints (zigzag doubles them; 2^51 stays exact). */
const MAX_VARINT_INT = 2 ** 50;

/** One checkpoint entry per session id: its open session, its tombstone, or nothing any more. */
export const EntryKind = { Session: 1, Tombstone: 2, Gone: 3 } as const;
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

export type Plain = null | undefined | boolean | number | string | readonly Plain[] | PlainObject;
export interface PlainObject {
  readonly [key: string]: Plain;
}

/** Writes the values of an object's keys in shape order, each through `write`. */
type FieldsWriter = (o: Record<string, unknown>, write: (v: unknown) => void) => void;

/**
 * One function per shape (key list), compiled once per process and shared by every chunk:
 * `o["k"]` with a constant key is a cached property load, where the generic loop's
 * `o[keys[i]]` is a megamorphic keyed load on every field of every entry. The views have ~55
 * fields and a live session is re-encoded at every checkpoint it changed in, so with events
 * arriving in real time this encoding costs about as much CPU as folding the events. The
 * source holds only JSON-quoted key names. Bounded: past the cap a shape takes the generic
 * loop.
 */
const fieldWriters = new Map<string, FieldsWriter>();
const MAX_FIELD_WRITERS = 256;

function fieldsWriterFor(keys: readonly string[]): FieldsWriter | undefined {
  const id = keys.join('\u0000');
  let writer = fieldWriters.get(id);
  if (writer === undefined && fieldWriters.size < MAX_FIELD_WRITERS) {
    const body = keys.map((k) => `  w(o[${JSON.stringify(k)}]);\n`).join('');
    writer = new Function('o', 'w', body) as FieldsWriter;
    fieldWriters.set(id, writer);
  }
  return writer;
}

interface Shape {
  readonly keys: string[];
  readonly id: number;
  readonly writeFields: FieldsWriter | undefined;
}

/** Writes entries into one chunk; `finish()` gives its bytes. */
export class ChunkWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly strings = new Map<string, number>();
  private readonly shapesByFirst = new Map<string, Shape[]>();
  /** `value` bound once, handed to the compiled field writers. */
  private readonly writeValue = (v: unknown): void => this.value(v);
  private shapeCount = 0;
  entries = 0;

  constructor(initialBytes = CHUNK_MAX_BYTES + 16 * 1_024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get bytes(): number {
    return this.pos;
  }

  entry(kind: EntryKind, value: unknown): void {
    this.byte(kind);
    this.value(value);
    this.entries++;
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** Starts a new chunk in the same buffer (the previous chunk's bytes are overwritten). */
  reset(): void {
    this.pos = 0;
    this.entries = 0;
    this.strings.clear();
    this.shapesByFirst.clear();
    this.shapeCount = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  private varint(n: number): void {
    // Unsigned, n < 2^53: bit operators while it fits 32 bits, arithmetic above.
    this.ensure(8);
    const buf = this.buf;
    let pos = this.pos;
    while (n > 0xffff_ffff) {
      buf[pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    while (n >= 0x80) {
      buf[pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[pos++] = n;
    this.pos = pos;
  }

  private string(s: string): void {
    const ref = this.strings.get(s);
    if (ref !== undefined) {
      this.byte(Tag.StringRef);
      this.varint(ref);
      return;
    }
    this.strings.set(s, this.strings.size);
    this.byte(Tag.NewString);
    const max = s.length * 3;
    this.ensure(max + 8);
    // Length after the bytes are known: write at a reserved varint of fixed width (4 bytes).
    const buf = this.buf;
    const lenAt = this.pos;
    const start = lenAt + 4;
    let written = -1;
    if (s.length <= 32) {
      // Short ASCII (ids, ISPs, OCAs) byte by byte: cheaper than a call into native utf8 code.
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === s.length) written = i;
    }
    if (written < 0) written = buf.write(s, start, 'utf8');
    this.pos = start + written;
    buf.writeUInt32LE(written, lenAt);
  }

  /**
   * Writes the object's shape (a new one, or a reference) and returns it. Shapes are
   * found by first key and key count, then compared key by key: no key string is built.
   */
  private shapeOf(o: Record<string, unknown>): Shape {
    // Own keys only: decoded Avro records inherit enumerable methods from their prototype.
    const scratch = Object.keys(o);
    const n = scratch.length;
    const first = n === 0 ? '' : scratch[0]!;
    let candidates = this.shapesByFirst.get(first);
    if (candidates !== undefined) {
      for (const c of candidates) {
        if (c.keys.length !== n) continue;
        let same = true;
        for (let i = 1; i < n; i++) {
          if (c.keys[i] !== scratch[i]) {
            same = false;
            break;
          }
        }
        if (same) {
          this.byte(Tag.ShapeRef);
          this.varint(c.id);
          return c;
        }
      }
    } else {
      candidates = [];
      this.shapesByFirst.set(first, candidates);
    }
    const keys = scratch;
    const shape: Shape = { keys, id: this.shapeCount++, writeFields: fieldsWriterFor(keys) };
    candidates.push(shape);
    this.byte(Tag.NewShape);
    this.varint(n);
    for (const k of keys) this.string(k);
    return shape;
  }

  private value(v: unknown): void {
    if (v === null) {
      this.byte(Tag.Null);
      return;
    }
    switch (typeof v) {
      case 'undefined':
        this.byte(Tag.Undefined);
        return;
      case 'boolean':
        this.byte(v ? Tag.True : Tag.False);
        return;
      case 'number':
        if (v >= 0 && v < 0x2000 && (v | 0) === v && (v !== 0 || 1 / v > 0)) {
          // Counters, seqs, flags, small durations (most fields): at most two varint bytes.
          this.ensure(3);
          const buf = this.buf;
          const z = v * 2;
          if (z < 0x80) {
            buf[this.pos++] = Tag.Int;
            buf[this.pos++] = z;
          } else {
            buf[this.pos++] = Tag.Int;
            buf[this.pos++] = (z & 0x7f) | 0x80;
            buf[this.pos++] = z >>> 7;
          }
        } else if (Number.isInteger(v) && Math.abs(v) < MAX_VARINT_INT && !Object.is(v, -0)) {
          this.byte(Tag.Int);
          this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
        } else {
          this.ensure(9);
          this.buf[this.pos++] = Tag.Float;
          this.buf.writeDoubleLE(v, this.pos);
          this.pos += 8;
        }
        return;
      case 'string':
        this.string(v);
        return;
      case 'object': {
        if (Array.isArray(v)) {
          this.byte(Tag.Array);
          this.varint(v.length);
          for (const x of v) this.value(x);
          return;
        }
        const o = v as Record<string, unknown>;
        const shape = this.shapeOf(o);
        if (shape.writeFields !== undefined) {
          shape.writeFields(o, this.writeValue);
          return;
        }
        const keys = shape.keys;
        for (let i = 0; i < keys.length; i++) this.value(o[keys[i]!]);
        return;
      }
      default:
        throw new TypeError(`cannot encode a ${typeof v} in a checkpoint`);
    }
  }
}

export interface DecodedEntry {
  readonly kind: EntryKind;
  readonly value: unknown;
}

/** Reads the entries of one chunk back, in order. */
export function* readChunk(bytes: Uint8Array): Generator<DecodedEntry> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const strings: string[] = [];
  const shapes: string[][] = [];
  let pos = 0;
  const varint = (): number => {
    let n = 0;
    let mul = 1;
    for (;;) {
      const b = buf[pos++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 0x80;
    }
  };
  const string = (tag: number): string => {
    if (tag === Tag.StringRef) return strings[varint()]!;
    const len = buf.readUInt32LE(pos);
    pos += 4;
    const s = buf.toString('utf8', pos, pos + len);
    pos += len;
    strings.push(s);
    return s;
  };
  const value = (): unknown => {
    const tag = buf[pos++]!;
    switch (tag) {
      case Tag.Null:
        return null;
      case Tag.Undefined:
        return undefined;
      case Tag.False:
        return false;
      case Tag.True:
        return true;
      case Tag.Int: {
        const z = varint();
        return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      case Tag.Float: {
        const x = buf.readDoubleLE(pos);
        pos += 8;
        return x;
      }
      case Tag.NewString:
      case Tag.StringRef:
        return string(tag);
      case Tag.Array: {
        const n = varint();
        const out: unknown[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = value();
        return out;
      }
      case Tag.NewShape:
      case Tag.ShapeRef: {
        let keys: string[];
        if (tag === Tag.NewShape) {
          const n = varint();
          keys = [];
          for (let i = 0; i < n; i++) keys.push(string(buf[pos++]!));
          shapes.push(keys);
        } else {
          keys = shapes[varint()]!;
        }
        const o: Record<string, unknown> = {};
        for (const k of keys) o[k] = value();
        return o;
      }
      default:
        throw new RangeError(`corrupt checkpoint chunk: tag ${tag} at byte ${pos - 1}`);
    }
  };
  while (pos < buf.length) {
    const kind = buf[pos++]! as EntryKind;
    yield { kind, value: value() };
  }
}

/**
 * A chunk is closed at this many entries or bytes, whichever comes first. Small chunks keep
 * each chunk's strings (base64, the insert's JSON line) out of V8's large-object space, where
 * garbage waits for a full GC and shows as RSS; the writer sends many chunks per insert.
 */
export const CHUNK_MAX_ENTRIES = 4_096;
export const CHUNK_MAX_BYTES = 48 * 1_024;
/** Chunks per insert statement (one ClickHouse part per insert, so not one per chunk). */
export const CHUNKS_PER_INSERT = 32;

/**
 * Encodes entries into chunks of bounded size, lazily (one chunk alive at a time). The bytes
 * of a chunk are a view of the writer's buffer, reused for the next chunk: copy them
 * (`Buffer.from`) to keep them past the next iteration.
 */
export function* encodeChunks(
  entries: Iterable<{ readonly kind: EntryKind; readonly value: unknown }>,
): Generator<{ bytes: Buffer; entries: number }> {
  const w = new ChunkWriter();
  for (const e of entries) {
    w.entry(e.kind, e.value);
    if (w.entries >= CHUNK_MAX_ENTRIES || w.bytes >= CHUNK_MAX_BYTES) {
      yield { bytes: w.finish(), entries: w.entries };
      w.reset();
    }
  }
  if (w.entries > 0) yield { bytes: w.finish(), entries: w.entries };
}
