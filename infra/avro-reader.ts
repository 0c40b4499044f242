/**
 * A schema-specialised Avro binary reader (Avro 1.11 specification, "Binary Encoding"), the
 * read-side twin of avro-writer.ts: the schema, parsed by avsc, is compiled
 * once into straight-line JavaScript (one function; nested records and unions inlined; one-
 * and two-byte varints read without a call; repeating strings found again in small per-field
 * tables) that reads a value from `buf[pos, end)`. The source is built only from the schema's
 * structure (types, branch counts; names and symbols stay in constants), never from data.
 *
 * Why not avsc's own `type.fromBuffer`: every field goes through a polymorphic `_read` call on
 * its type object and every varint through a Tap method, and each record, string and union
 * adds a call more. For a playback event (about 20 nullable fields, 11 strings) that was the
 * largest single item of the sessionize processor's CPU after kafkajs itself.
 *
 * Values are the ones avsc gives, built the same way: records are instances of avsc's own
 * record class for the type (`type.recordConstructor`, so `instanceof`, key order and the
 * prototype's methods match), enums are their symbols, unions unwrapped, bytes copied, maps
 * plain objects. Ints are read as avsc reads them (as longs, without a 32-bit check) and
 * longs are refused past 2^53 - 2 as avsc refuses them. The tests compare both readers on
 * every event kind and on thousands of random values.
 *
 * Bad bytes are not this reader's business: anything unexpected (truncated or trailing
 * bytes, an out-of-range enum or union index, a negative length) throws, mostly
 * `AvroReadMismatch`, and callers then decode with avsc, which gives its own answer and its
 * own error message (infra/registry.ts does). So a malformed record is dead-lettered with
 * exactly the reason it always had.
 *
 * Supported: null, boolean, int, long, float, double, bytes, string, enum, record, array,
 * map and unwrapped unions. Anything else (fixed, wrapped unions, logical types avsc was
 * asked to decode) gets no compiled reader: `compileAvroReader` returns undefined.
 */
import type avro from 'avsc';

/** Reads one value from `buf` starting at `pos`, which must end exactly at `end`. */
export type AvroReader = (buf: Buffer, pos: number, end: number) => unknown;

/** The compiled reader saw something it does not handle the way avsc does; decode with avsc. */
export class AvroReadMismatch extends Error {}

function mismatch(what: string): never {
  throw new AvroReadMismatch(what);
}

/** Shared by the helpers below and the generated code: the position after a helper's read. */
interface Cursor {
  p: number;
}

/**
 * A varint of more than one byte, as avsc's `Tap.readLong` decodes it (exactly: 32-bit
 * arithmetic for the first four groups, doubles after), zig-zag undone. Sets `c.p`.
 */
function readVarintSlow(buf: Buffer, pos: number, c: Cursor): number {
  let p = pos;
  let n = 0;
  let k = 0;
  let b = 0;
  let h = 0;
  do {
    b = buf[p++] as number;
    h = b & 0x80;
    n |= (b & 0x7f) << k;
    k += 7;
  } while (h !== 0 && k < 28);
  if (h !== 0) {
    let f = n;
    let fk = 268_435_456; // 2^28
    do {
      b = buf[p++] as number;
      f += (b & 0x7f) * fk;
      fk *= 128;
    } while ((b & 0x80) !== 0);
    c.p = p;
    return (f % 2 ? -(f + 1) : f) / 2;
  }
  c.p = p;
  return (n >> 1) ^ -(n & 1);
}

/**
 * Strings that repeat (ISP, region, country, device class, title, OCA, ingest key) are read
 * once and then found again by their bytes: one pass of JavaScript over a few bytes instead
 * of a native call and a new string each time, and the garbage collector is spared copying
 * millions of young copies of the same dozen strings. Each place a string is read in the
 * schema has its own small direct-mapped table, so a high-cardinality field (session id,
 * URL) cannot evict the repeating ones; a place whose table mostly misses after a trial
 * stops looking (its strings are simply read).
 */
export class StringSite {
  private readonly table: Array<string | undefined> = new Array(STRING_TABLE_SIZE);
  private lookups = 0;
  private hits = 0;
  enabled = true;

  read(buf: Buffer, pos: number, len: number): string {
    if (len === 0) return '';
    if (!this.enabled || len > MAX_CACHED_STRING_BYTES) return utf8Slice(buf, pos, len);
    // The slot from the length and three bytes (first, middle, last): repeating strings differ
    // there often enough, and a collision costs a miss, never a wrong string (compared below).
    let h = Math.imul(len ^ (buf[pos] as number), 0x01000193);
    h = Math.imul(h ^ (buf[pos + (len >> 1)] as number), 0x01000193);
    h = Math.imul(h ^ (buf[pos + len - 1] as number), 0x01000193);
    const slot = (h ^ (h >>> 13)) & (STRING_TABLE_SIZE - 1);
    const known = this.table[slot];
    // A cached string is pure ASCII (one byte per UTF-16 unit), so equal length and equal
    // units mean equal bytes.
    if (known !== undefined && known.length === len) {
      let i = 0;
      while (i < len && known.charCodeAt(i) === buf[pos + i]) i++;
      if (i === len) {
        this.hits++;
        return known;
      }
    }
    const fresh = utf8Slice(buf, pos, len);
    if (fresh.length === len) this.table[slot] = fresh;
    if (++this.lookups === STRING_TRIAL_LOOKUPS) this.enabled = this.hits * 2 >= this.lookups;
    return fresh;
  }
}

const STRING_TABLE_SIZE = 256;
const MAX_CACHED_STRING_BYTES = 48;
/** Misses counted before a place decides whether its strings repeat. */
const STRING_TRIAL_LOOKUPS = 4_096;

interface Utf8Sliceable {
  utf8Slice(start: number, end: number): string;
}

/** What avsc's Tap.readString calls: the same decoding, bad UTF-8 replaced the same way. */
function utf8Slice(buf: Buffer, pos: number, len: number): string {
  return (buf as Buffer & Utf8Sliceable).utf8Slice(pos, pos + len);
}

type TypeLike = avro.Type & {
  readonly typeName: string;
  readonly fields?: ReadonlyArray<{ readonly name: string; readonly type: avro.Type }>;
  readonly types?: readonly avro.Type[];
  readonly symbols?: readonly string[];
  readonly itemsType?: avro.Type;
  readonly valuesType?: avro.Type;
  readonly recordConstructor?: new (...values: unknown[]) => object;
};

class UnsupportedType extends Error {}

/** avsc's `isSafeLong` bound: 2^53 - 2. */
const LONG_BOUND = 9_007_199_254_740_990;

interface Runtime {
  readonly constants: unknown[];
  /** Readers of records that contain themselves, called by index instead of inlined. */
  readonly records: Array<(buf: Buffer, pos: number, end: number, c: Cursor) => unknown>;
  readonly recordIndex: Map<avro.Type, number>;
}

/** The compiled reader of `type`, or undefined when the schema uses something unsupported. */
export function compileAvroReader(type: avro.Type): AvroReader | undefined {
  const runtime: Runtime = { constants: [], records: [], recordIndex: new Map() };
  let inner: (buf: Buffer, pos: number, end: number, c: Cursor) => unknown;
  try {
    inner = compileFunction(type as TypeLike, runtime, new Set());
  } catch (err) {
    if (err instanceof UnsupportedType) return undefined;
    throw err;
  }
  const cursor: Cursor = { p: 0 };
  return (buf, pos, end) => {
    const value = inner(buf, pos, end, cursor);
    // Short or long by any amount: avsc says "truncated buffer" or "trailing data".
    if (cursor.p !== end) mismatch(`read ended at ${cursor.p}, not ${end}`);
    return value;
  };
}

function compileFunction(
  type: TypeLike,
  runtime: Runtime,
  open: Set<avro.Type>,
): (buf: Buffer, pos: number, end: number, c: Cursor) => unknown {
  const gen = new Generator(runtime, open);
  const code = gen.read(type, 'v');
  const source =
    `${gen.prelude()}return function read(b, pos, end, c) {\n  let p = pos;\n  let n = 0;\n  let x = 0;\n${gen.declarations()}` +
    `${code}  c.p = p;\n  return v;\n};`;
  const factory = new Function('rv', 'mm', 'C', 'R', source) as (
    ...args: unknown[]
  ) => (buf: Buffer, pos: number, end: number, c: Cursor) => unknown;
  return factory(readVarintSlow, mismatch, runtime.constants, runtime.records);
}

class Generator {
  private vars = 0;
  private readonly locals: string[] = ['v'];
  private readonly constantNames: string[] = [];
  constructor(
    private readonly runtime: Runtime,
    private readonly open: Set<avro.Type>,
  ) {}

  /** Constants bound once per compiled function (closure variables, not array loads per read). */
  prelude(): string {
    return this.constantNames.map((name) => `const ${name} = C[${name.slice(1)}];\n`).join('');
  }

  declarations(): string {
    return `  let ${this.locals.join(', ')};\n`;
  }

  private constant(value: unknown): string {
    this.runtime.constants.push(value);
    const name = `K${this.runtime.constants.length - 1}`;
    this.constantNames.push(name);
    return name;
  }

  private temp(): string {
    const name = `x${this.vars++}`;
    this.locals.push(name);
    return name;
  }

  /**
   * A varint (int or long, zig-zag undone) into `x`: one or two bytes inline (counts, seq,
   * bitrates, durations), longer ones (epoch ms, byte counts) in rv.
   */
  private varint(x: string): string {
    return (
      `  n = b[p];\n  if (n < 0x80) { ${x} = (n >>> 1) ^ -(n & 1); p++; }\n` +
      `  else if (b[p + 1] < 0x80) { n = (n & 0x7f) | (b[p + 1] << 7); ${x} = (n >>> 1) ^ -(n & 1); p += 2; }\n` +
      `  else { ${x} = rv(b, p, c); p = c.p; }\n`
    );
  }

  /** Statements that read a value of `type` into the variable `x`. */
  read(type: TypeLike, x: string): string {
    switch (type.typeName) {
      case 'null':
        return `  ${x} = null;\n`;
      case 'boolean':
        return `  ${x} = !!b[p++];\n`;
      case 'int':
        // avsc reads an int as a long (no 32-bit check); so does this.
        return this.varint(x);
      case 'long':
        return `${this.varint(x)}  if (!(${x} >= -${LONG_BOUND} && ${x} <= ${LONG_BOUND})) mm('long precision');\n`;
      case 'float':
        return `  if (p + 4 > end) mm('truncated');\n  ${x} = b.readFloatLE(p);\n  p += 4;\n`;
      case 'double':
        return `  if (p + 8 > end) mm('truncated');\n  ${x} = b.readDoubleLE(p);\n  p += 8;\n`;
      case 'string':
        // utf8Slice is what avsc's Tap.readString calls: the same replacement of bad UTF-8.
        return this.string(x);
      case 'bytes':
        // A copy, as avsc's readFixed makes: the value must not alias the Kafka fetch buffer.
        return `${this.varint('x')}  if (x < 0 || p + x > end) mm('bytes length');\n  ${x} = Buffer.from(b.subarray(p, p + x));\n  p += x;\n`;
      case 'enum': {
        const symbols = this.constant(type.symbols ?? []);
        const i = this.temp();
        return `${this.varint(i)}  ${x} = ${symbols}[${i}];\n  if (${x} === undefined) mm('enum index');\n`;
      }
      case 'array':
        return this.array(type, x);
      case 'map':
        return this.map(type, x);
      case 'union:unwrapped':
        return this.union(type, x);
      case 'record':
      case 'error':
        return this.record(type, x);
      default:
        throw new UnsupportedType(type.typeName);
    }
  }

  private string(x: string): string {
    const site = this.constant(new StringSite());
    return `${this.varint('x')}  if (x < 0 || p + x > end) mm('string length');\n  ${x} = ${site}.read(b, p, x);\n  p += x;\n`;
  }

  /** avsc's readArraySize: a negative count is followed by the block's byte size, skipped. */
  private blockCount(count: string): string {
    const skipped = this.temp();
    return `${this.varint(count)}  if (${count} < 0) {\n  ${count} = -${count};\n${this.varint(skipped)}  }\n`;
  }

  private array(type: TypeLike, x: string): string {
    const count = this.temp();
    const i = this.temp();
    const item = this.temp();
    // The same allocation as avsc's (sized by the first block), so the arrays are alike.
    return (
      `  ${x} = undefined;\n  ${i} = 0;\n  for (;;) {\n${this.blockCount(count)}  if (${count} === 0) break;\n` +
      `  if (${x} === undefined) ${x} = new Array(${count});\n` +
      `  while (${count}-- > 0) {\n  if (p > end) mm('truncated');\n${this.read(type.itemsType as TypeLike, item)}  ${x}[${i}++] = ${item};\n  }\n  }\n` +
      `  if (${x} === undefined) ${x} = [];\n`
    );
  }

  private map(type: TypeLike, x: string): string {
    const count = this.temp();
    const key = this.temp();
    const value = this.temp();
    return (
      `  ${x} = {};\n  for (;;) {\n${this.blockCount(count)}  if (${count} === 0) break;\n` +
      `  while (${count}-- > 0) {\n  if (p > end) mm('truncated');\n${this.string(key)}` +
      `${this.read(type.valuesType as TypeLike, value)}  ${x}[${key}] = ${value};\n  }\n  }\n`
    );
  }

  private union(type: TypeLike, x: string): string {
    const branches = (type.types ?? []) as TypeLike[];
    const index = this.temp();
    let code = `${this.varint(index)}  switch (${index}) {\n`;
    branches.forEach((branch, n) => {
      code += `  case ${n}:\n${this.read(branch, x)}  break;\n`;
    });
    return `${code}  default:\n  mm('union index');\n  }\n`;
  }

  private record(type: TypeLike, x: string): string {
    const ctor = type.recordConstructor;
    if (ctor === undefined) throw new UnsupportedType('record without a constructor');
    if (this.open.has(type)) {
      // A record inside itself: a function of its own, compiled once and called by index.
      let at = this.runtime.recordIndex.get(type);
      if (at === undefined) {
        at = this.runtime.records.length;
        this.runtime.recordIndex.set(type, at);
        this.runtime.records.push(() => null); // replaced just below; called only after that
        this.runtime.records[at] = compileFunction(type, this.runtime, new Set());
      }
      return `  ${x} = R[${at}](b, p, end, c);\n  p = c.p;\n`;
    }
    this.open.add(type);
    const klass = this.constant(ctor);
    let code = '';
    const fields: string[] = [];
    for (const field of type.fields ?? []) {
      const f = this.temp();
      fields.push(f);
      code += this.read(field.type as TypeLike, f);
    }
    this.open.delete(type);
    return `${code}  ${x} = new ${klass}(${fields.join(', ')});\n`;
  }
}
