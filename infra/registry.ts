/**
 * Avro in the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro body),
 * with schemas registered through `@kafkajs/confluent-schema-registry` under
 * TopicNameStrategy subjects (`<topic>-value`) with BACKWARD compatibility.
 *
 * Registration and writer-schema look-ups go through the registry client; the hot path
 * (encode/decode) uses the same avsc types the client would, with the schema id and
 * resolvers cached, so a record costs one avsc call and no registry round trip. A value written
 * under the codec's own schema id is read by a reader compiled from that schema
 * (avro-reader.ts: the same values as avsc, about twice as fast); any other writer schema id
 * goes through avsc's resolver for that schema, and anything the compiled reader does not
 * accept is decoded by avsc again, so errors read as they always did.
 */
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { PlayloopError } from '../core/errors.ts';
import { type AvroReader, compileAvroReader } from './avro-reader.ts';
import { type AvroWriter, compileAvroWriter } from './avro-writer.ts';

export type AvroSchemaJson = { readonly type: 'record'; readonly name: string } & Readonly<
  Record<string, unknown>
>;

export function createRegistry(url: string): SchemaRegistry {
  return new SchemaRegistry({
    host: url,
    retry: { retries: 2, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 1 },
  });
}

export function subjectFor(topic: string): string {
  return `${topic}-value`;
}

function registryError(action: string, subject: string, cause: unknown): PlayloopError {
  const status =
    typeof cause === 'object' && cause !== null && 'status' in cause
      ? Number((cause as { status: unknown }).status)
      : 0;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (status === 409 || /incompatib/i.test(message)) {
    return new PlayloopError(
      'SCHEMA_INCOMPATIBLE',
      `${action} ${subject}: the registry refused it: ${message}`,
      {
        cause,
        details: { subject },
      },
    );
  }
  return new PlayloopError('REGISTRY_UNAVAILABLE', `${action} ${subject}: ${message}`, {
    cause,
    details: { subject },
  });
}

const MAGIC = 0;
const HEADER_BYTES = 5;

export class AvroCodec<T> {
  readonly subject: string;
  readonly schemaId: number;
  private readonly type: avro.Type;
  private readonly header: Buffer;
  private readonly resolvers = new Map<number, avro.Resolver>();
  private readonly registry: SchemaRegistry;
  /** Compiled for `schemaId` only: bytes under another writer schema need avsc's resolver. */
  private readonly reader: AvroReader | undefined;
  /** Compiled from the schema (avro-writer.ts); undefined when it uses something unsupported. */
  private readonly writer: AvroWriter | undefined;
  /** Where the writer works: header in place, body after it; grown when a value needs more. */
  private scratch = Buffer.allocUnsafe(4_096);

  private constructor(registry: SchemaRegistry, subject: string, schemaId: number, type: avro.Type) {
    this.registry = registry;
    this.subject = subject;
    this.schemaId = schemaId;
    this.type = type;
    this.header = Buffer.alloc(HEADER_BYTES);
    this.header.writeUInt8(MAGIC, 0);
    this.header.writeUInt32BE(schemaId, 1);
    this.reader = compileAvroReader(type);
    this.writer = compileAvroWriter(type);
  }

  /** Registers `schema` under `<topic>-value` with BACKWARD compatibility and returns a codec. */
  static async register<T>(
    registry: SchemaRegistry,
    topic: string,
    schema: AvroSchemaJson,
  ): Promise<AvroCodec<T>> {
    const subject = subjectFor(topic);
    let id: number;
    try {
      ({ id } = await registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject, compatibility: COMPATIBILITY.BACKWARD },
      ));
    } catch (cause) {
      throw registryError('registering', subject, cause);
    }
    return new AvroCodec<T>(registry, subject, id, avro.Type.forSchema(schema as avro.Schema));
  }

  /** Throws INVALID_EVENT naming the first bad path when `value` does not fit the schema. */
  encode(value: T): Buffer {
    const compiled = this.writeCompiled(value);
    if (compiled !== undefined) return compiled;
    let body: Buffer;
    try {
      body = this.type.toBuffer(value);
    } catch (cause) {
      const paths: string[] = [];
      this.type.isValid(value, { errorHook: (path) => paths.push(path.join('.')) });
      throw new PlayloopError(
        'INVALID_EVENT',
        `value does not fit ${this.subject}: ${paths[0] ?? String(cause)}`,
        {
          cause,
          details: { path: paths[0] ?? null },
        },
      );
    }
    return Buffer.concat([this.header, body], HEADER_BYTES + body.length);
  }

  /**
   * Header and body written by the compiled writer into the scratch buffer, then copied out
   * once (avsc's toBuffer copies its body out, and the header is concatenated: two buffers a
   * value). Undefined when there is no compiled writer or the value does not fit the schema:
   * avsc then encodes it, or names the bad path, as it always has.
   */
  private writeCompiled(value: T): Buffer | undefined {
    if (this.writer === undefined) return undefined;
    for (;;) {
      const scratch = this.scratch;
      let end: number;
      try {
        end = this.writer(scratch, HEADER_BYTES, value);
      } catch {
        return undefined;
      }
      if (end <= scratch.length) {
        this.header.copy(scratch, 0);
        return Buffer.from(scratch.subarray(0, end));
      }
      // Past the end (the writer's stores there were dropped): again in a buffer that fits.
      this.scratch = Buffer.allocUnsafe(Math.max(end, scratch.length * 2));
    }
  }

  /** Decodes a value written under any schema id of this subject into this codec's schema. */
  async decode(buffer: Buffer): Promise<T> {
    if (buffer.length < HEADER_BYTES || buffer.readUInt8(0) !== MAGIC) {
      throw new PlayloopError('INVALID_EVENT', `not a Confluent wire-format value (${buffer.length} bytes)`);
    }
    const id = buffer.readUInt32BE(1);
    if (id === this.schemaId) return this.readOwn(buffer);
    const body = buffer.subarray(HEADER_BYTES);
    const resolver = await this.resolverFor(id);
    return this.type.fromBuffer(body, resolver) as T;
  }

  /** Synchronous decode when the writer schema is this codec's own (the common case). */
  decodeOwn(buffer: Buffer): T | undefined {
    if (buffer.length < HEADER_BYTES || buffer.readUInt8(0) !== MAGIC) return undefined;
    if (buffer.readUInt32BE(1) !== this.schemaId) return undefined;
    return this.readOwn(buffer);
  }

  /** The body of a wire-format value written under `schemaId`. */
  private readOwn(buffer: Buffer): T {
    if (this.reader !== undefined) {
      try {
        return this.reader(buffer, HEADER_BYTES, buffer.length) as T;
      } catch {
        // Malformed for the compiled reader: avsc decides, and its error is the one reported.
      }
    }
    return this.type.fromBuffer(buffer.subarray(HEADER_BYTES)) as T;
  }

  private async resolverFor(id: number): Promise<avro.Resolver> {
    const cached = this.resolvers.get(id);
    if (cached) return cached;
    let writer: avro.Type;
    try {
      // For AVRO subjects the registry client hands back an avsc Type.
      writer = (await this.registry.getSchema(id)) as unknown as avro.Type;
    } catch (cause) {
      throw registryError(`fetching schema id ${id} for`, this.subject, cause);
    }
    const resolver = this.type.createResolver(writer);
    this.resolvers.set(id, resolver);
    return resolver;
  }
}
