/**
 * A compacted config topic (config.steering, config.abr) as a table: the latest document per
 * key (scope), kept current by a consumer that reads the topic from the beginning.
 *
 * Readers need the last good config even when Kafka is away (the control plane must not fail
 * playback because a broker restarts), so every change is also written to a snapshot file
 * under the data directory, and a reader that cannot reach Kafka at start serves the
 * snapshot until the topic comes back.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { PlayloopError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { backoffDelayMs, defaultBackoff, sleep } from '../core/retry.ts';
import { createProducer, withAdmin } from './kafka.ts';
import type { AvroCodec } from './registry.ts';

/** Documents carry their scope and a per-scope monotonic version. */
export interface VersionedDoc {
  readonly scope: string;
  readonly version: number;
}

export type Source = 'kafka' | 'snapshot' | 'empty';

export class ConfigTable<T extends VersionedDoc> {
  private readonly docs = new Map<string, T>();
  private readonly listeners = new Set<(doc: T) => void>();
  private consumer: Consumer | undefined;
  private snapshotTimer: NodeJS.Timeout | undefined;
  private source: Source = 'empty';
  private lastUpdateAt = 0;
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly codec: AvroCodec<T>,
    private readonly snapshotFile: string,
    private readonly log: Logger,
  ) {}

  /** Current document of a scope, or undefined. */
  get(scope: string): T | undefined {
    return this.docs.get(scope);
  }

  all(): T[] {
    return [...this.docs.values()];
  }

  /** Where the current contents came from, and when they last changed. */
  health(): { source: Source; scopes: number; lastUpdateAt: number } {
    return { source: this.source, scopes: this.docs.size, lastUpdateAt: this.lastUpdateAt };
  }

  onChange(listener: (doc: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Loads the snapshot, then starts following the topic and waits (bounded) until the reader
   * has caught up with what the topic held at start. If Kafka is unreachable the snapshot
   * stays in force and the reader keeps trying in the background, with backoff.
   */
  async start(options: { catchUpTimeoutMs?: number } = {}): Promise<void> {
    this.loadSnapshot();
    const timeoutMs = options.catchUpTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([this.followWithRetry(), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.log.warn(
        { topic: this.topic, timeoutMs, source: this.source },
        'config topic not caught up in time; serving what is known',
      );
    }
  }

  private async followWithRetry(): Promise<'ok'> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.follow();
        return 'ok';
      } catch (err) {
        await this.consumer?.disconnect().catch(() => undefined);
        this.consumer = undefined;
        const delayMs = backoffDelayMs(attempt, { ...defaultBackoff, maxDelayMs: 5_000 });
        this.log.warn(
          { topic: this.topic, err: String(err), source: this.source, delayMs },
          'config topic unreachable; serving last good config',
        );
        await sleep(delayMs);
      }
    }
    return 'ok';
  }

  /** Subscribes from the beginning and resolves once caught up with the start-time end. */
  private async follow(): Promise<void> {
    const highWatermarks = await withAdmin(this.kafka, async (admin) => {
      const offsets = await admin.fetchTopicOffsets(this.topic);
      return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    });
    const consumer = this.kafka.consumer({
      // A group of its own: every reader sees the whole topic; nothing is committed.
      groupId: `playloop-config-${this.topic}-${randomUUID()}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    this.consumer = consumer;
    const pending = new Set([...highWatermarks].filter(([, high]) => high > 0n).map(([p]) => p));
    let caughtUp: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      caughtUp = resolve;
      if (pending.size === 0) resolve();
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (message.value) {
          try {
            this.apply(await this.codec.decode(message.value));
          } catch (err) {
            // A document we cannot read must not take the last good one away.
            this.log.error(
              { topic: this.topic, partition, offset: message.offset, err: String(err) },
              'unreadable config document skipped',
            );
          }
        }
        const high = highWatermarks.get(partition);
        if (
          high !== undefined &&
          BigInt(message.offset) + 1n >= high &&
          pending.delete(partition) &&
          pending.size === 0
        ) {
          caughtUp();
        }
      },
    });
    await done;
  }

  /** Applies a document if it is newer than what the table holds for its scope. */
  apply(doc: T): boolean {
    const current = this.docs.get(doc.scope);
    if (current && current.version >= doc.version) return false;
    this.docs.set(doc.scope, doc);
    this.source = 'kafka';
    this.lastUpdateAt = Date.now();
    this.scheduleSnapshot();
    for (const listener of this.listeners) listener(doc);
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.snapshotTimer) {
      clearTimeout(this.snapshotTimer);
      this.writeSnapshot();
    }
    await this.consumer?.disconnect();
  }

  private scheduleSnapshot(): void {
    if (this.snapshotTimer) return;
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = undefined;
      this.writeSnapshot();
    }, 200);
  }

  private writeSnapshot(): void {
    mkdirSync(dirname(this.snapshotFile), { recursive: true });
    const tmp = `${this.snapshotFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.all()));
    renameSync(tmp, this.snapshotFile);
  }

  private loadSnapshot(): void {
    if (!existsSync(this.snapshotFile)) return;
    try {
      const docs = JSON.parse(readFileSync(this.snapshotFile, 'utf8')) as T[];
      for (const doc of docs) this.docs.set(doc.scope, doc);
      this.source = 'snapshot';
    } catch (err) {
      this.log.warn(
        { file: this.snapshotFile, err: String(err) },
        'config snapshot unreadable; starting empty',
      );
    }
  }
}

/** Writes versioned documents to a compacted config topic, keyed by scope, acks=-1. */
export class ConfigPublisher<T extends VersionedDoc> {
  private readonly producer: Producer;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly codec: AvroCodec<T>,
  ) {
    this.producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 1 });
  }

  async publish(doc: T): Promise<void> {
    if (!this.connected) {
      await this.producer.connect();
      this.connected = true;
    }
    try {
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: [{ key: doc.scope, value: this.codec.encode(doc) }],
      });
    } catch (cause) {
      throw new PlayloopError(
        'KAFKA_UNAVAILABLE',
        `could not publish ${this.topic} ${doc.scope} v${doc.version}`,
        { cause },
      );
    }
  }

  async stop(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
  }
}
