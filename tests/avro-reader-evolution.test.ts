/**
 * The compiled Avro reader (infra/avro-reader.ts) under schema evolution, against the real
 * registry: a value written under an older schema id of the subject is not read by the reader
 * compiled for the codec's own id, but resolved through the registry's copy of the writer
 * schema (avsc's resolver), exactly as before the reader existed.
 */
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { AvroCodec, type AvroSchemaJson, createRegistry } from '../infra/registry.ts';
import { type PlaybackEvent, schema as playbackEventSchema } from '../schemas/generated/playback-event.ts';
import { testConfig, uniqueName } from './support/stack.ts';
import { generateWorkload } from './support/workload.ts';

const config = testConfig('avro_reader');

describe('compiled reader and schema evolution (real registry)', () => {
  it('reads its own schema id compiled and an older writer id through the resolver', async () => {
    const registry = createRegistry(config.registry.url);
    const topic = uniqueName('avro-reader.evolve');
    // The older writer: the event without `cmcd`, which the current schema has with a default.
    const older = {
      ...playbackEventSchema,
      fields: playbackEventSchema.fields.filter((f) => f.name !== 'cmcd'),
    } as unknown as AvroSchemaJson;
    const v1 = await AvroCodec.register<Omit<PlaybackEvent, 'cmcd'>>(registry, topic, older);
    const v2 = await AvroCodec.register<PlaybackEvent>(
      registry,
      topic,
      playbackEventSchema as AvroSchemaJson,
    );
    expect(v2.schemaId).not.toBe(v1.schemaId);

    const current = avro.Type.forSchema(playbackEventSchema as object as avro.Schema);
    const resolver = current.createResolver(avro.Type.forSchema(older as avro.Schema));
    const events = generateWorkload({
      sessions: 50,
      seed: 3,
      startMs: Date.UTC(2026, 0, 1),
      spreadMs: 60_000,
    }).events;
    for (const e of events) {
      const { cmcd: _absent, ...old } = e;
      const oldWire = v1.encode(old);
      expect(oldWire.readUInt32BE(1)).toBe(v1.schemaId);
      // Not the compiled id: the synchronous path declines, the resolving path answers.
      expect(v2.decodeOwn(oldWire)).toBeUndefined();
      const resolved = await v2.decode(oldWire);
      expect(JSON.stringify(resolved)).toBe(
        JSON.stringify(current.fromBuffer(oldWire.subarray(5), resolver)),
      );
      expect(resolved.cmcd).toBeNull();

      const newWire = v2.encode(e);
      const own = v2.decodeOwn(newWire);
      expect(JSON.stringify(own)).toBe(JSON.stringify(current.fromBuffer(newWire.subarray(5))));
      expect(JSON.stringify(await v2.decode(newWire))).toBe(JSON.stringify(own));
    }
  });
});
