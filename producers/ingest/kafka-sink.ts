/**
 * Where accepted records go: a kafkajs producer, idempotent, acks=-1 (all in-sync replicas),
 * with bounded retries so a send fails in seconds when Kafka is gone rather than hanging
 * every request.
 *
 * Health is a two-state breaker. While Kafka answers, requests are produced. The first
 * failed send marks Kafka down: from then on requests are answered 503 with Retry-After at
 * once (no memory grows), and a probe checks every `probeIntervalMs` whether the events
 * topic has leaders again. When it does, a fresh producer (a new producer id, so no stale
 * sequence numbers survive the outage) is connected and requests flow again; no operator
 * is needed.
 */
import type { Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import { errorMessage, PlayloopError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { createProducer } from '../../infra/kafka.ts';
import type { OutRecord } from './encode.ts';

export interface RecordSink {
  /** Resolves when every record is acknowledged by Kafka; rejects with KAFKA_UNAVAILABLE. */
  send(records: readonly OutRecord[]): Promise<void>;
  /** False while Kafka is down (or not yet connected): answer 503 without trying. */
  readonly available: boolean;
}

export interface KafkaSinkOptions {
  readonly ackTimeoutMs: number;
  readonly retries: number;
  readonly probeIntervalMs: number;
  /** The topic whose partition leaders must be back before producing resumes. */
  readonly probeTopic: string;
  readonly log: Logger;
  readonly onStateChange?: (up: boolean) => void;
}

/**
 * Records grouped by topic for `sendBatch`. A record is a kafkajs Message as it is (key and
 * value; the extra `topic` is ignored), so the usual send, every record for the events
 * topic, passes the array through without a copy or an object per record.
 */
export function topicMessagesOf(records: readonly OutRecord[]): TopicMessages[] {
  const first = records[0];
  if (first === undefined) return [];
  if (records.every((r) => r.topic === first.topic)) {
    return [{ topic: first.topic, messages: records as OutRecord[] as Message[] }];
  }
  const byTopic = new Map<string, Message[]>();
  for (const r of records) {
    let messages = byTopic.get(r.topic);
    if (messages === undefined) {
      messages = [];
      byTopic.set(r.topic, messages);
    }
    messages.push(r);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

export class KafkaSink implements RecordSink {
  private producer: Producer | undefined;
  private up = false;
  private closed = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaSinkOptions,
  ) {}

  get available(): boolean {
    return this.up && !this.closed;
  }

  /** Connects the first producer; throws KAFKA_UNAVAILABLE when Kafka cannot be reached. */
  async connect(): Promise<void> {
    try {
      this.producer = await this.connectProducer();
    } catch (cause) {
      throw new PlayloopError(
        'KAFKA_UNAVAILABLE',
        `cannot connect the ingest producer: ${errorMessage(cause)}`,
        {
          cause,
        },
      );
    }
    this.setUp(true);
  }

  async send(records: readonly OutRecord[]): Promise<void> {
    const producer = this.producer;
    if (!this.available || producer === undefined) {
      throw new PlayloopError('KAFKA_UNAVAILABLE', 'Kafka is down; ingest is probing for its return');
    }
    try {
      await producer.sendBatch({
        acks: -1,
        timeout: this.options.ackTimeoutMs,
        topicMessages: topicMessagesOf(records),
      });
    } catch (cause) {
      this.markDown(cause);
      throw new PlayloopError(
        'KAFKA_UNAVAILABLE',
        `Kafka did not acknowledge the records: ${errorMessage(cause)}`,
        {
          cause,
        },
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer);
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private async connectProducer(): Promise<Producer> {
    const producer = createProducer(this.kafka, {
      idempotent: true,
      allowAutoTopicCreation: false,
      // kafkajs' idempotent default is to retry forever; bounded retries let a request fail
      // in seconds with 503, and the client retries it (at least once; see the README).
      retry: { retries: this.options.retries, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    try {
      await producer.connect();
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
    return producer;
  }

  private setUp(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    this.options.onStateChange?.(up);
  }

  private markDown(cause: unknown): void {
    if (!this.up) return;
    this.setUp(false);
    this.options.log.warn({ err: errorMessage(cause) }, 'ingest: Kafka is down; answering 503 and probing');
    const old = this.producer;
    this.producer = undefined;
    void old?.disconnect().catch(() => undefined);
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.closed || this.probing) return;
    this.probeTimer = setTimeout(() => void this.probe(), this.options.probeIntervalMs);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    if (this.closed) return;
    this.probing = true;
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      const { topics } = await admin.fetchTopicMetadata({ topics: [this.options.probeTopic] });
      const partitions = topics[0]?.partitions ?? [];
      if (partitions.length === 0 || partitions.some((p) => p.leader < 0)) {
        throw new Error(`${this.options.probeTopic} has partitions without a leader`);
      }
      const producer = await this.connectProducer();
      if (this.closed) {
        await producer.disconnect().catch(() => undefined);
        return;
      }
      this.producer = producer;
      this.setUp(true);
      this.options.log.info('ingest: Kafka is back; producing again');
    } catch {
      // Still down: try again after the interval.
    } finally {
      await admin.disconnect().catch(() => undefined);
      this.probing = false;
      if (!this.up) this.scheduleProbe();
    }
  }
}
