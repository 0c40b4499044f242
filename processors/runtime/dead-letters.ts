/**
 * Poison records of a processor go to `<topic>.dlq` with the reason and the raw value, acked
 * (acks=-1) before the processor moves past them, so a bad record is never silently lost and
 * never blocks the partition.
 */
import type { Kafka, Producer } from 'kafkajs';
import { PlayloopError } from '../../core/errors.ts';
import { createProducer } from '../../infra/kafka.ts';
import type { AvroCodec } from '../../infra/registry.ts';
import type { DeadLetter } from '../../schemas/generated/dead-letter.ts';
import { kafkaFailure } from './kafka-errors.ts';

export interface PoisonRecord {
  readonly source: string;
  readonly code: string;
  readonly reason: string;
  readonly originTopic: string;
  readonly originPartition: number;
  readonly originOffset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

export class DeadLetterWriter {
  private readonly producer: Producer;
  private connected = false;

  constructor(
    kafka: Kafka,
    /** The dead-letter codec registered under each DLQ topic's own subject. */
    private readonly codecs: ReadonlyMap<string, AvroCodec<DeadLetter>>,
    private readonly dlqTopicOf: (originTopic: string) => string,
  ) {
    this.producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 1 });
  }

  async write(records: readonly PoisonRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (!this.connected) {
      await this.producer.connect();
      this.connected = true;
    }
    const byTopic = new Map<string, Array<{ key: Buffer | null; value: Buffer }>>();
    for (const r of records) {
      const letter: DeadLetter = {
        source: r.source,
        code: r.code,
        reason: r.reason,
        path: null,
        failedAt: Date.now(),
        payload: r.value ?? Buffer.alloc(0),
        sessionId: r.key?.toString('utf8') ?? null,
        originTopic: r.originTopic,
        originPartition: r.originPartition,
        originOffset: r.originOffset,
        batchIndex: null,
        ingestKeyId: null,
      };
      const topic = this.dlqTopicOf(r.originTopic);
      const codec = this.codecs.get(topic);
      if (!codec) throw new PlayloopError('INTERNAL', `no dead-letter codec registered for ${topic}`);
      const list = byTopic.get(topic) ?? [];
      list.push({ key: r.key, value: codec.encode(letter) });
      byTopic.set(topic, list);
    }
    try {
      await this.producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (cause) {
      throw kafkaFailure('could not write dead letters', cause);
    }
  }

  async stop(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
  }
}
