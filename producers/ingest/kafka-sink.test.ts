import type { Kafka, ProducerBatch, ProducerConfig } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { pollUntil } from '../../core/retry.ts';
import { KafkaSink, topicMessagesOf } from './kafka-sink.ts';

/** Just enough of kafkajs for the sink: producers that record, an admin that answers metadata. */
class FakeKafka {
  producers: FakeProducer[] = [];
  brokerUp = true;
  leader = 0;
  adminCalls = 0;

  producer(config: ProducerConfig): FakeProducer {
    const p = new FakeProducer(this, config);
    this.producers.push(p);
    return p;
  }

  admin() {
    const kafka = this;
    return {
      async connect() {
        kafka.adminCalls++;
        if (!kafka.brokerUp) throw new Error('ECONNREFUSED');
      },
      async fetchTopicMetadata({ topics }: { topics: string[] }) {
        return {
          topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0, leader: kafka.leader }] })),
        };
      },
      async disconnect() {},
    };
  }

  asKafka(): Kafka {
    return this as unknown as Kafka;
  }
}

class FakeProducer {
  batches: ProducerBatch[] = [];
  connected = false;
  constructor(
    private readonly kafka: FakeKafka,
    readonly config: ProducerConfig,
  ) {}
  async connect() {
    if (!this.kafka.brokerUp) throw new Error('ECONNREFUSED');
    this.connected = true;
  }
  async disconnect() {
    this.connected = false;
  }
  async sendBatch(batch: ProducerBatch) {
    if (!this.kafka.brokerUp || !this.connected) throw new Error('Connection closed');
    this.batches.push(batch);
    return [];
  }
}

function sinkOver(kafka: FakeKafka, states: boolean[] = []) {
  return new KafkaSink(kafka.asKafka(), {
    ackTimeoutMs: 1_000,
    retries: 2,
    probeIntervalMs: 5,
    probeTopic: 'events',
    log: silentLogger,
    onStateChange: (up) => states.push(up),
  });
}

describe('Kafka sink', () => {
  it('produces idempotently with acks=-1, one sendBatch grouping records by topic', async () => {
    const kafka = new FakeKafka();
    const sink = sinkOver(kafka);
    expect(sink.available).toBe(false);
    await sink.connect();
    expect(sink.available).toBe(true);
    await sink.send([
      { topic: 'events', key: 'a', value: Buffer.from('1') },
      { topic: 'dlq', key: null, value: Buffer.from('2') },
      { topic: 'events', key: 'b', value: Buffer.from('3') },
    ]);
    const producer = kafka.producers[0] as FakeProducer;
    expect(producer.config).toMatchObject({ idempotent: true, retry: { retries: 2 } });
    expect(producer.batches).toHaveLength(1);
    expect(producer.batches[0]).toMatchObject({
      acks: -1,
      timeout: 1_000,
      topicMessages: [
        { topic: 'events', messages: [{ key: 'a' }, { key: 'b' }] },
        { topic: 'dlq', messages: [{ key: null }] },
      ],
    });
    await sink.close();
  });

  it('hands a single-topic send to kafkajs as it is, without a copy per record', () => {
    const records = [
      { topic: 'events', key: 'a', value: Buffer.from('1') },
      { topic: 'events', key: 'b', value: Buffer.from('2') },
    ];
    const [only, ...rest] = topicMessagesOf(records);
    expect(rest).toEqual([]);
    expect(only?.topic).toBe('events');
    expect(only?.messages).toBe(records);
    expect(topicMessagesOf([])).toEqual([]);
  });

  it('goes down on a failed send, answers at once while down, and recovers with a fresh producer', async () => {
    const kafka = new FakeKafka();
    const states: boolean[] = [];
    const sink = sinkOver(kafka, states);
    await sink.connect();
    kafka.brokerUp = false;
    await expect(sink.send([{ topic: 'events', key: 'a', value: Buffer.from('1') }])).rejects.toMatchObject({
      code: 'PLAYLOOP_KAFKA_UNAVAILABLE',
      retriable: true,
    });
    expect(sink.available).toBe(false);
    await expect(sink.send([{ topic: 'events', key: 'a', value: Buffer.from('1') }])).rejects.toMatchObject({
      message: /probing/,
    });
    await pollUntil(async () => (kafka.adminCalls >= 3 ? true : undefined), {
      timeoutMs: 2_000,
      intervalMs: 5,
      what: 'probes',
    });
    expect(sink.available).toBe(false);
    // The broker is back but the topic has no leader yet: still down.
    kafka.brokerUp = true;
    kafka.leader = -1;
    const calls = kafka.adminCalls;
    await pollUntil(async () => (kafka.adminCalls >= calls + 2 ? true : undefined), {
      timeoutMs: 2_000,
      intervalMs: 5,
      what: 'probes',
    });
    expect(sink.available).toBe(false);
    kafka.leader = 0;
    await pollUntil(async () => (sink.available ? true : undefined), {
      timeoutMs: 2_000,
      intervalMs: 5,
      what: 'recovery',
    });
    expect(states).toEqual([true, false, true]);
    expect(kafka.producers).toHaveLength(2);
    expect(kafka.producers[0]?.connected).toBe(false);
    await sink.send([{ topic: 'events', key: 'a', value: Buffer.from('1') }]);
    expect(kafka.producers[1]?.batches).toHaveLength(1);
    await sink.close();
    expect(sink.available).toBe(false);
  });

  it('fails to connect with KAFKA_UNAVAILABLE', async () => {
    const kafka = new FakeKafka();
    kafka.brokerUp = false;
    await expect(sinkOver(kafka).connect()).rejects.toMatchObject({ code: 'PLAYLOOP_KAFKA_UNAVAILABLE' });
  });

  it('stops probing once closed', async () => {
    const kafka = new FakeKafka();
    const sink = sinkOver(kafka);
    await sink.connect();
    kafka.brokerUp = false;
    await sink.send([{ topic: 'events', key: 'a', value: Buffer.from('1') }]).catch(() => undefined);
    await sink.close();
    const calls = kafka.adminCalls;
    await new Promise((r) => setTimeout(r, 50));
    expect(kafka.adminCalls).toBeLessThanOrEqual(calls + 1);
  });
});
