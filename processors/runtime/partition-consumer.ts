/**
 * The consumer loop every playloop processor runs on (kafkajs), built for exact results:
 *
 * - Offsets are committed by the runtime, never automatically, and only up to what the
 *   processor says is safe (`committableOffset`): everything before that offset is already
 *   reflected in the sink (ClickHouse rows written, or downstream records acked). A crash at
 *   any point therefore replays from an offset whose effects may be partly present; the
 *   processors make that harmless by writing idempotently (deterministic keys), so a replay
 *   changes no number.
 * - Infrastructure failures (retriable) are retried in place with full-jitter backoff;
 *   programmer errors and unknown failures stop the consumer WITHOUT committing, so nothing
 *   is lost: a restart replays from the last committed offset.
 * - Rebalances: partitions taken away are reported to the processor, which drops their
 *   state; the new owner replays them from the committed offset.
 * - Consumer lag (high watermark minus next offset) is exported as a metric.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Counter, Gauge, Registry } from 'prom-client';
import { errorMessage, isRetriable } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { sharedCounter, sharedGauge } from '../../core/metrics.ts';
import { type BackoffPolicy, backoffDelayMs, defaultBackoff, sleep } from '../../core/retry.ts';

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface InboundMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Broker timestamp (epoch ms, as the decimal string kafkajs gives). */
  readonly timestamp: string;
}

export interface InboundBatch extends TopicPartition {
  readonly messages: readonly InboundMessage[];
  readonly highWatermark: string;
}

export interface Processor {
  readonly name: string;
  /**
   * Handles one batch of one partition. It may be called again with messages it has seen
   * (after a retry or a rebalance); it must recognise them by offset.
   */
  onBatch(batch: InboundBatch): Promise<void>;
  /** The next offset whose predecessors are all reflected in the sink; undefined: nothing yet. */
  committableOffset(tp: TopicPartition): string | undefined;
  /** Processing-time tick: flush sinks, materialise windows, close idle state. */
  onTick?(nowMs: number): Promise<void>;
  /** Partitions this member no longer owns: forget their state. */
  onRevoked?(partitions: readonly TopicPartition[]): void;
  /** Graceful shutdown: flush what can be flushed before the final commit. */
  onStop?(): Promise<void>;
}

export interface RunnerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly tickIntervalMs?: number;
  readonly backoff?: BackoffPolicy;
  readonly metrics: Registry;
  readonly log: Logger;
  /** Called once if the consumer stops on an error it must not retry past. */
  readonly onFatal?: (err: unknown) => void;
  readonly sessionTimeoutMs?: number;
  readonly maxBytesPerPartition?: number;
}

const key = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

export class ProcessorRunner {
  private readonly consumer: Consumer;
  private readonly owned = new Map<string, TopicPartition>();
  private readonly committed = new Map<string, string>();
  private readonly lag: Gauge;
  private readonly processed: Counter;
  private readonly retries: Counter;
  private tickTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private stopping = false;
  private failed: unknown;

  constructor(
    kafka: Kafka,
    private readonly processor: Processor,
    private readonly options: RunnerOptions,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 15_000,
      heartbeatInterval: 1_000,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 4 * 1_048_576,
      retry: { retries: 10 },
    });
    const labelNames = ['processor', 'topic', 'partition'] as const;
    this.lag = sharedGauge(options.metrics, {
      name: 'playloop_consumer_lag',
      help: 'Records between the partition high watermark and the next offset this processor reads',
      labelNames,
    });
    this.processed = sharedCounter(options.metrics, {
      name: 'playloop_processor_records_total',
      help: 'Records handed to the processor (replays included)',
      labelNames: ['processor'],
    });
    this.retries = sharedCounter(options.metrics, {
      name: 'playloop_processor_retries_total',
      help: 'Batches retried after a retriable infrastructure error',
      labelNames: ['processor'],
    });
  }

  async start(): Promise<void> {
    const { GROUP_JOIN, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (event) => this.onAssignment(event.payload.memberAssignment));
    this.consumer.on(CRASH, (event) => {
      if (!event.payload.restart) this.fail(event.payload.error);
    });
    await this.consumer.connect();
    for (const topic of this.options.topics) await this.consumer.subscribe({ topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      // Offsets are resolved only after the processor handled the batch: a batch abandoned
      // part-way (stale after a rebalance, stopping) is fetched again, not skipped.
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    this.tickTimer = setInterval(() => {
      this.ticking = this.ticking.then(() => this.tick());
    }, this.options.tickIntervalMs ?? 1_000);
  }

  /** Stops fetching, lets the processor flush, commits what is safe, disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    await this.ticking;
    await this.consumer.stop();
    if (this.failed === undefined) {
      await this.processor.onStop?.();
      await this.commit();
    }
    await this.consumer.disconnect();
  }

  /** The error that stopped the consumer, if one did. */
  get failure(): unknown {
    return this.failed;
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
    if (batch.messages.length === 0 || this.failed !== undefined) return;
    // kafkajs's own message objects, not copies: a copy per record was measurable garbage.
    const inbound: InboundBatch = {
      topic: batch.topic,
      partition: batch.partition,
      highWatermark: batch.highWatermark,
      messages: batch.messages,
    };
    for (let attempt = 0; ; attempt++) {
      if (!isRunning() || isStale()) return;
      try {
        await this.processor.onBatch(inbound);
        break;
      } catch (err) {
        if (!isRetriable(err) || this.stopping) {
          this.fail(err);
          // Throwing here would let kafkajs restart and re-deliver; a non-retriable failure
          // must instead stop the consumer with nothing committed past it.
          await this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
          return;
        }
        this.retries.inc({ processor: this.processor.name });
        const delayMs = backoffDelayMs(attempt, this.options.backoff ?? defaultBackoff);
        this.options.log.warn(
          { err: errorMessage(err), attempt, delayMs },
          'retriable failure; retrying batch',
        );
        await sleep(delayMs);
        await heartbeat();
      }
    }
    this.processed.inc({ processor: this.processor.name }, inbound.messages.length);
    const last = inbound.messages[inbound.messages.length - 1];
    if (last) {
      resolveOffset(last.offset);
      const lag = BigInt(batch.highWatermark) - (BigInt(last.offset) + 1n);
      this.lag.set(
        { processor: this.processor.name, topic: batch.topic, partition: String(batch.partition) },
        Number(lag < 0n ? 0n : lag),
      );
    }
    await heartbeat();
  }

  private onAssignment(assignment: Record<string, number[]>): void {
    const next = new Map<string, TopicPartition>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) next.set(key({ topic, partition }), { topic, partition });
    }
    const revoked = [...this.owned].filter(([k]) => !next.has(k)).map(([, tp]) => tp);
    this.owned.clear();
    for (const [k, tp] of next) this.owned.set(k, tp);
    for (const tp of revoked) this.committed.delete(key(tp));
    if (revoked.length > 0) {
      this.options.log.info({ revoked }, 'partitions revoked; their state is dropped');
      this.processor.onRevoked?.(revoked);
    }
  }

  private async tick(): Promise<void> {
    if (this.failed !== undefined || this.stopping) return;
    try {
      await this.processor.onTick?.(Date.now());
      await this.commit();
    } catch (err) {
      if (isRetriable(err)) {
        this.options.log.warn({ err: errorMessage(err) }, 'tick failed; will retry next tick');
      } else {
        this.fail(err);
        await this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
      }
    }
  }

  /** Commits, per owned partition, the offset the processor declares safe. */
  private async commit(): Promise<void> {
    const offsets: Array<TopicPartition & { offset: string }> = [];
    for (const [k, tp] of this.owned) {
      const offset = this.processor.committableOffset(tp);
      if (offset === undefined || this.committed.get(k) === offset) continue;
      offsets.push({ ...tp, offset });
    }
    if (offsets.length === 0) return;
    try {
      await this.consumer.commitOffsets(offsets);
      for (const o of offsets) this.committed.set(key(o), o.offset);
    } catch (err) {
      // A rebalance in progress refuses commits; the next tick tries again, and anything
      // not committed is replayed idempotently.
      this.options.log.warn({ err: errorMessage(err) }, 'commit refused; will retry');
    }
  }

  private fail(err: unknown): void {
    if (this.failed !== undefined) return;
    this.failed = err;
    this.options.log.error(
      { err: errorMessage(err) },
      'processor stopped without committing past the failure',
    );
    this.options.onFatal?.(err);
  }
}
