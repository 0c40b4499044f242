/**
 * Allocation events on the real broker and registry: the shipped definitions assign a few
 * hundred units, the allocations go to experiment.allocations as Avro (Confluent wire
 * format, schemas/experiment-allocation.avsc) keyed by unit id, and come back equal.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, describe, expect, it } from 'vitest';
import { threadedAllocationProducer } from '../control-plane/plan/allocation-thread.ts';
import { isPlayloopError } from '../core/errors.ts';
import { pollUntil } from '../core/retry.ts';
import { allocationEventKey, toAllocationEvent } from '../experiments/assignment/allocation-event.ts';
import { assign } from '../experiments/assignment/assign.ts';
import { loadExperiments } from '../experiments/definitions/validate.ts';
import { createKafka } from '../infra/kafka.ts';
import { AvroCodec, type AvroSchemaJson, createRegistry } from '../infra/registry.ts';
import { type ExperimentAllocation, schema } from '../schemas/generated/experiment-allocation.ts';
import { createTopics, deleteTopics, testConfig, uniqueName } from './support/stack.ts';

const config = testConfig('allocations');
const topic = config.topics.allocations;

afterAll(async () => {
  await deleteTopics(config, [topic]);
});

describe('experiment.allocations (real broker, registry)', () => {
  it('carries allocation events keyed by unit id, decodable by the registry client', async () => {
    const definitions = await loadExperiments(`${import.meta.dirname}/../experiments`);
    const events: ExperimentAllocation[] = [];
    for (let i = 0; i < 300; i++) {
      const unit = {
        viewerId: `it-viewer-${i}`,
        sessionId: `it-session-${i}`,
        deviceClass: i % 2 === 0 ? 'tv' : 'mobile',
        country: 'DE',
        isp: 'AS3320',
      };
      for (const a of assign(definitions, unit)) {
        if (a.inExperiment) {
          events.push(toAllocationEvent(a, { allocatedAt: 1_764_000_000_000 + i, source: 'fleet' }));
        }
      }
    }
    // Both shipped experiments allocate some of these units.
    expect(new Set(events.map((e) => e.experimentKey))).toEqual(
      new Set(['abr-bandwidth-factor', 'steering-health-weighted']),
    );

    const codec = await AvroCodec.register<ExperimentAllocation>(
      createRegistry(config.registry.url),
      topic,
      schema as unknown as AvroSchemaJson,
    );
    await createTopics(config, [topic], 2);
    const kafka = createKafka(config.kafka);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: events.map((e) => ({ key: allocationEventKey(e), value: codec.encode(e) })),
    });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('allocations') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: Array<{ key: string; value: Buffer }> = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value) received.push({ key: message.key?.toString() ?? '', value: message.value });
      },
    });
    await pollUntil(async () => (received.length >= events.length ? true : undefined), {
      timeoutMs: 30_000,
      what: 'every allocation event to come back',
    });
    await consumer.disconnect();

    const decoded = await Promise.all(received.map((r) => codec.decode(r.value)));
    const byId = (x: ExperimentAllocation) => `${x.experimentKey}/${x.unitId}`;
    const sortById = (xs: ExperimentAllocation[]) => [...xs].sort((a, b) => byId(a).localeCompare(byId(b)));
    expect(sortById(decoded)).toEqual(sortById(events));
    for (const [i, r] of received.entries()) expect(r.key).toBe((decoded[i] as ExperimentAllocation).unitId);

    // Independently of our codec, the registry client decodes the same record.
    const first = received[0];
    if (first === undefined) throw new Error('no record');
    expect(await new SchemaRegistry({ host: config.registry.url }).decode(first.value)).toEqual(decoded[0]);
  });

  it("goes through the control plane's producer thread: every record, keyed, one partition per key, in order", async () => {
    const threadTopic = `${topic}.thread`;
    await createTopics(config, [threadTopic], 4);
    const producer = threadedAllocationProducer({
      kafka: config.kafka,
      topic: threadTopic,
      ackTimeoutMs: 5_000,
    });
    // 40 units with 25 events each, sent in 5 batches as the emitter would (one at a time).
    const sent: Array<{ key: string; value: string }> = [];
    for (let batch = 0; batch < 5; batch++) {
      const records = [];
      for (let i = 0; i < 200; i++) {
        const n = batch * 200 + i;
        const record = { key: `unit-${n % 40}`, value: `event-${n}` };
        sent.push(record);
        records.push({ key: record.key, value: Buffer.from(record.value) });
      }
      await producer.send(records);
    }
    await producer.close();

    const kafka = createKafka(config.kafka);
    const consumer = kafka.consumer({ groupId: uniqueName('allocations-thread') });
    await consumer.connect();
    await consumer.subscribe({ topic: threadTopic, fromBeginning: true });
    const received: Array<{ key: string; value: string; partition: number }> = [];
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          partition,
        });
      },
    });
    await pollUntil(async () => (received.length >= sent.length ? true : undefined), {
      timeoutMs: 30_000,
      what: 'every record sent through the thread to come back',
    });
    await consumer.disconnect();
    await deleteTopics(config, [threadTopic]);

    expect(received).toHaveLength(sent.length);
    const partitionOf = new Map<string, number>();
    for (const r of received) {
      expect(partitionOf.get(r.key) ?? r.partition).toBe(r.partition);
      partitionOf.set(r.key, r.partition);
    }
    // Spread over the partitions by key, and each key's events in the order they were sent.
    expect(new Set(partitionOf.values()).size).toBeGreaterThan(1);
    const order = (xs: ReadonlyArray<{ key: string; value: string }>, key: string) =>
      xs.filter((x) => x.key === key).map((x) => x.value);
    for (const key of partitionOf.keys()) expect(order(received, key)).toEqual(order(sent, key));
  });

  it('fails a send through the thread as KAFKA_UNAVAILABLE (retriable) when no broker answers', async () => {
    const producer = threadedAllocationProducer({
      kafka: { ...config.kafka, brokers: ['127.0.0.1:1'], connectionTimeoutMs: 200 },
      topic,
      ackTimeoutMs: 500,
    });
    const failure = await producer.send([{ key: 'k', value: Buffer.from('v') }]).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isPlayloopError(failure) && failure.code).toBe('PLAYLOOP_KAFKA_UNAVAILABLE');
    expect(isPlayloopError(failure) && failure.retriable).toBe(true);
    await producer.close();
  }, 30_000);
});
