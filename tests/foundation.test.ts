/**
 * The foundation on the real broker and registry: an Avro schema registered with BACKWARD
 * compatibility, a record produced and consumed back equal field for field, and an
 * incompatible change refused by the registry. Plus ClickHouse migrations applied once.
 */

import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, describe, expect, it } from 'vitest';
import { PlayloopError } from '../core/errors.ts';
import { pollUntil } from '../core/retry.ts';
import { openAndMigrate, queryRows } from '../infra/clickhouse.ts';
import { createKafka } from '../infra/kafka.ts';
import { AvroCodec, createRegistry, subjectFor } from '../infra/registry.ts';
import { createTopics, deleteTopics, testConfig, uniqueName } from './support/stack.ts';

const config = testConfig('foundation');
const topic = uniqueName('foundation.roundtrip');

const readingV1 = {
  type: 'record',
  name: 'Reading',
  namespace: 'dev.playloop.test',
  fields: [
    { name: 'sessionId', type: 'string' },
    { name: 'bitrateKbps', type: 'int' },
    { name: 'bufferMs', type: ['null', 'long'], default: null },
    { name: 'tags', type: { type: 'array', items: 'string' }, default: [] },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['a', 'b'] } },
  ],
} as const;

interface Reading {
  sessionId: string;
  bitrateKbps: number;
  bufferMs: number | null;
  tags: string[];
  kind: 'a' | 'b';
}

afterAll(async () => {
  await deleteTopics(config, [topic]);
});

describe('Kafka + schema registry (real broker, Apicurio ccompat API)', () => {
  it('registers with BACKWARD compatibility and round-trips a record through Kafka', async () => {
    const registry = createRegistry(config.registry.url);
    const codec = await AvroCodec.register<Reading>(registry, topic, readingV1);
    expect(codec.subject).toBe(`${topic}-value`);

    const res = await fetch(`${config.registry.url}/config/${encodeURIComponent(subjectFor(topic))}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ compatibilityLevel: 'BACKWARD' });

    await createTopics(config, [topic]);
    const kafka = createKafka(config.kafka);
    const producer = kafka.producer();
    await producer.connect();
    const sent: Reading = {
      sessionId: 's-1',
      bitrateKbps: 3_000,
      bufferMs: 12_345,
      tags: ['x', 'y'],
      kind: 'b',
    };
    const value = codec.encode(sent);
    expect(value.readUInt8(0)).toBe(0); // Confluent magic byte
    expect(value.readUInt32BE(1)).toBe(codec.schemaId);
    await producer.send({ topic, acks: -1, messages: [{ key: sent.sessionId, value }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('foundation') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: Reading[] = [];
    let key = '';
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value) received.push(await codec.decode(message.value));
        key = message.key?.toString() ?? '';
      },
    });
    await pollUntil(async () => (received.length > 0 ? true : undefined), {
      timeoutMs: 30_000,
      what: 'the record to come back',
    });
    await consumer.disconnect();
    expect(received).toEqual([sent]);
    expect(key).toBe('s-1');

    // A record also decodes with the registry client itself, independently of our codec.
    const independent = new SchemaRegistry({ host: config.registry.url });
    expect(await independent.decode(value)).toEqual(sent);
  });

  it('accepts an optional field with a default and refuses an incompatible change', async () => {
    const registry = createRegistry(config.registry.url);
    const evolvingTopic = uniqueName('foundation.evolve');
    await AvroCodec.register<Reading>(registry, evolvingTopic, readingV1);
    const withDefault = {
      ...readingV1,
      fields: [...readingV1.fields, { name: 'cdn', type: ['null', 'string'], default: null }],
    };
    const v2 = await AvroCodec.register(registry, evolvingTopic, withDefault);
    expect(v2.schemaId).toBeGreaterThan(0);

    const newRequiredField = {
      ...readingV1,
      fields: [...readingV1.fields, { name: 'ocaId', type: 'string' }],
    };
    const refused = await AvroCodec.register(registry, evolvingTopic, newRequiredField).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(PlayloopError);
    expect((refused as PlayloopError).code).toBe('PLAYLOOP_SCHEMA_INCOMPATIBLE');
    expect((refused as PlayloopError).retriable).toBe(false);

    // The raw client sees the same refusal: this is the registry's rule, not ours.
    const raw = new SchemaRegistry({ host: config.registry.url });
    await expect(
      raw.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(newRequiredField) },
        { subject: subjectFor(evolvingTopic), compatibility: COMPATIBILITY.BACKWARD },
      ),
    ).rejects.toThrow(/ncompatible/);
  });
});

describe('ClickHouse (embedded chDB unless CLICKHOUSE_URL)', () => {
  it('applies the migrations once and records them', async () => {
    const first = await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir });
    expect(first.migrations.applied).toContain('0001_foundation');
    await first.ch.close();
    const second = await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir });
    expect(second.migrations.applied).toEqual([]);
    const rows = await queryRows<{ n: number }>(
      second.ch.client,
      `SELECT count() AS n FROM ${config.clickhouse.database}.schema_migrations WHERE version = 1`,
    );
    expect(Number(rows[0]?.n)).toBe(1);
    await second.ch.close();
  });
});
