/**
 * The sessionize processor: playback.events -> Sessionizer -> playback.sessions.
 *
 * Why nothing is lost or counted twice across crashes:
 * - Each partition's state (open sessions, tombstones, watermark) is checkpointed to
 *   ClickHouse together with the offset it is complete up to. On (re)assignment the
 *   checkpoint is restored and records below its offset are skipped, so state and position
 *   can never disagree; the Kafka offset committed afterwards is only a hint.
 * - Summaries are produced (acks=-1) right after the batch that closed them, before any
 *   checkpoint that no longer holds their sessions. A crash after producing but before
 *   checkpointing replays the batch and produces the same summaries again: their ids are
 *   deterministic (`sessionId:firstSeq`) and the qoe and outcomes sinks keep one row per id.
 * - A partition's output depends only on its own input (per-partition watermarks and caps),
 *   so a replay reproduces it. The one exception is `idleAdvanceMs`, a wall-clock nudge for
 *   quiet streams: a view it closes early on one run may close later on a replay, and the
 *   sinks keep the most complete row (ReplacingMergeTree on the source offset).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Kafka, Producer } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ErrorKinds, errorMessage, PlayloopError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { clickhouseFailure, queryRows } from '../../infra/clickhouse.ts';
import type { AvroCodec } from '../../infra/registry.ts';
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import type { SessionSummary } from '../../schemas/generated/playback-session.ts';
import type { DeadLetterWriter, PoisonRecord } from '../runtime/dead-letters.ts';
import type { InboundBatch, Processor, TopicPartition } from '../runtime/partition-consumer.ts';
import { chunkBySize } from '../runtime/send-chunks.ts';
import { Serial } from '../runtime/serial.ts';
import type { SessionizeOptions } from './options.ts';
import { type PartitionSnapshot, Sessionizer } from './sessionizer.ts';

export interface SessionizeProcessorOptions {
  readonly kafka: Kafka;
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly groupId: string;
  readonly eventsTopic: string;
  readonly sessionsTopic: string;
  readonly eventCodec: AvroCodec<PlaybackEvent>;
  readonly sessionCodec: AvroCodec<SessionSummary>;
  readonly deadLetters: DeadLetterWriter;
  readonly sessionize: SessionizeOptions;
  readonly checkpointIntervalMs: number;
  readonly idleAdvanceMs: number;
  /** The topic's high watermark per partition, asked of the broker (for idle detection). */
  readonly highWatermarks: (topic: string) => Promise<Map<number, number>>;
  readonly metrics: Registry;
  readonly log: Logger;
  /** Wall clock, for checkpoint cadence and idle advance; tests may pin it. */
  readonly now?: () => number;
}

interface Owned {
  /** Offsets below this are reflected in the sessionizer's state. */
  nextOffset: number;
  /** Offset of the newest checkpoint written for this partition. */
  checkpointed: number | undefined;
}

export class SessionizeProcessor implements Processor {
  readonly name = 'sessionize';
  private readonly serial = new Serial();
  private readonly sessionizer: Sessionizer;
  private readonly owned = new Map<number, Owned>();
  private readonly producer: Producer;
  private producerConnected = false;
  private unsent: SessionSummary[] = [];
  private lastCheckpointAt = 0;
  private lastEventAt = 0;
  private maxEventTime = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly emitted: Counter;
  private readonly late: Counter;
  private readonly open: Gauge;

  constructor(private readonly o: SessionizeProcessorOptions) {
    this.sessionizer = new Sessionizer(o.sessionize);
    this.producer = o.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.now = o.now ?? Date.now;
    this.emitted = new Counter({
      name: 'playloop_sessionize_summaries_total',
      help: 'Session summaries produced to playback.sessions (replays included)',
      registers: [o.metrics],
    });
    this.late = new Counter({
      name: 'playloop_sessionize_late_events_total',
      help: 'Events that arrived after their view was emitted; dead-lettered',
      registers: [o.metrics],
    });
    this.open = new Gauge({
      name: 'playloop_sessionize_open_sessions',
      help: 'Sessions held open in memory',
      registers: [o.metrics],
      collect: () => {
        this.open.set(this.sessionizer.stats().openSessions);
      },
    });
  }

  onBatch(batch: InboundBatch): Promise<void> {
    return this.serial.run(async () => {
      const owned = this.owned.get(batch.partition) ?? (await this.restore(batch.partition));
      const poison: PoisonRecord[] = [];
      for (const m of batch.messages) {
        const offset = Number(m.offset);
        if (offset < owned.nextOffset) continue; // already in the restored state
        owned.nextOffset = offset + 1;
        if (m.value === null) continue;
        let event: PlaybackEvent;
        try {
          event = this.o.eventCodec.decodeOwn(m.value) ?? (await this.o.eventCodec.decode(m.value));
        } catch (err) {
          if (err instanceof PlayloopError && err.retriable) throw err;
          poison.push(
            this.poisonOf(batch, m.offset, m.key, m.value, ErrorKinds.INVALID_EVENT.code, errorMessage(err)),
          );
          continue;
        }
        const disposition = this.sessionizer.add(event, { partition: batch.partition, offset });
        if (disposition === 'late') {
          this.late.inc();
          poison.push(
            this.poisonOf(
              batch,
              m.offset,
              m.key,
              m.value,
              ErrorKinds.LATE_EVENT.code,
              'event arrived after its view was emitted',
            ),
          );
        }
        const t = event.clientTs - event.server.clockSkewMs;
        if (t > this.maxEventTime) this.maxEventTime = t;
      }
      this.lastEventAt = this.now();
      await this.o.deadLetters.write(poison);
      await this.produceDrained();
    });
  }

  onTick(): Promise<void> {
    return this.serial.run(async () => {
      const now = this.now();
      // Quiet means: nothing new for idleAdvanceMs AND nothing unread in Kafka for any owned
      // partition, asked of the broker now. A consumer that is merely behind (a slow sink, a
      // paused event loop, a rebalance) is not quiet, however long it has been.
      if (
        this.o.idleAdvanceMs > 0 &&
        this.lastEventAt > 0 &&
        now - this.lastEventAt >= this.o.idleAdvanceMs &&
        (await this.caughtUp())
      ) {
        // Let the watermark follow the wall clock from where the newest event put it (newest
        // event time minus the allowed lateness); jumping to the newest event time itself
        // would skip the lateness and close sessions whose reordered events are on their way.
        const watermarkAtLastEvent = this.maxEventTime - this.o.sessionize.allowedLatenessMs;
        this.sessionizer.advanceWatermarkTo(watermarkAtLastEvent + (now - this.lastEventAt));
        await this.produceDrained();
      }
      if (now - this.lastCheckpointAt >= this.o.checkpointIntervalMs) {
        await this.checkpoint();
        // The interval runs from the end of a checkpoint: a large state takes seconds to
        // write, and counting from its start left no time between checkpoints to consume.
        this.lastCheckpointAt = this.now();
      }
    });
  }

  onStop(): Promise<void> {
    return this.serial.run(async () => {
      await this.produceDrained();
      await this.checkpoint();
      if (this.producerConnected) await this.producer.disconnect();
    });
  }

  private async caughtUp(): Promise<boolean> {
    if (this.owned.size === 0) return false;
    let highs: Map<number, number>;
    try {
      highs = await this.o.highWatermarks(this.o.eventsTopic);
    } catch {
      return false; // cannot tell: not quiet
    }
    return [...this.owned].every(([p, o]) => o.nextOffset >= (highs.get(p) ?? 0));
  }

  committableOffset(tp: TopicPartition): string | undefined {
    const checkpointed = this.owned.get(tp.partition)?.checkpointed;
    return checkpointed === undefined ? undefined : String(checkpointed);
  }

  onRevoked(partitions: readonly TopicPartition[]): void {
    // Drop the state: the next owner restores it from the newest checkpoint and replays.
    const ids = partitions.map((p) => p.partition);
    this.sessionizer.revokePartitions(ids);
    for (const p of ids) this.owned.delete(p);
  }

  /**
   * Summaries closed so far go to playback.sessions, acked before anything else moves. If
   * Kafka refuses, what was not acked stays in `unsent` and the error is retriable: the runner
   * retries the batch (its records are skipped as already folded) and the rest goes again. No
   * checkpoint is written while `unsent` is not empty, because the checkpoint no longer
   * holds their sessions. Sends are capped in records and bytes (runtime/send-chunks.ts): one
   * batch can close thousands of sessions, more than the broker takes in one request.
   */
  private async produceDrained(): Promise<void> {
    this.unsent.push(...this.sessionizer.drain());
    if (this.unsent.length === 0) return;
    const messages = this.unsent.map((s) => ({ key: s.sessionId, value: this.o.sessionCodec.encode(s) }));
    for (const chunk of chunkBySize(messages, (m) => m.key.length + m.value.length)) {
      try {
        if (!this.producerConnected) {
          await this.producer.connect();
          this.producerConnected = true;
        }
        await this.producer.send({ topic: this.o.sessionsTopic, acks: -1, messages: chunk });
      } catch (cause) {
        throw new PlayloopError(
          'KAFKA_UNAVAILABLE',
          `producing ${chunk.length} of ${this.unsent.length} session summaries`,
          { cause },
        );
      }
      // Chunks are in order, so the acked ones are the head of `unsent`.
      this.unsent.splice(0, chunk.length);
      this.emitted.inc(chunk.length);
    }
  }

  /**
   * One row per partition, each its own insert: a partition's row is a self-contained
   * checkpoint, and one body holding every partition's state outgrows V8's longest string
   * (2^29 - 24 characters) near a million open sessions. Between partitions the event loop
   * breathes (the consumer's heartbeats are sent from it).
   */
  private async checkpoint(): Promise<void> {
    if (this.unsent.length > 0) return;
    for (const [partition, owned] of [...this.owned]) {
      // A partition revoked meanwhile is the new owner's to checkpoint.
      if (this.owned.get(partition) !== owned) continue;
      // Serialised at once, so the snapshot may share the live views (no copy).
      const snapshot = this.sessionizer.snapshot(partition, { copy: false });
      const row = {
        group_id: this.o.groupId,
        topic: this.o.eventsTopic,
        partition,
        next_offset: owned.nextOffset,
        open_sessions: snapshot.sessions.length,
        state: JSON.stringify(snapshot),
        written_at: this.now(),
      };
      try {
        await this.o.client.insert({
          table: `${this.o.database}.sessionize_checkpoints`,
          values: [row],
          format: 'JSONEachRow',
        });
      } catch (cause) {
        throw clickhouseFailure('writing sessionize checkpoints', cause);
      }
      owned.checkpointed = row.next_offset;
    }
  }

  private async restore(partition: number): Promise<Owned> {
    let rows: Array<{ next_offset: number; state: string }>;
    try {
      rows = await queryRows<{ next_offset: number; state: string }>(
        this.o.client,
        `SELECT next_offset, state FROM ${this.o.database}.sessionize_checkpoints FINAL
         WHERE group_id = {g:String} AND topic = {t:String} AND partition = {p:UInt32}`,
        { g: this.o.groupId, t: this.o.eventsTopic, p: partition },
      );
    } catch (cause) {
      throw clickhouseFailure('reading a sessionize checkpoint', cause);
    }
    const row = rows[0];
    let owned: Owned;
    if (row) {
      const snapshot = JSON.parse(row.state) as PartitionSnapshot;
      this.sessionizer.restore(snapshot);
      owned = {
        nextOffset: Number(row.next_offset),
        checkpointed: Number(row.next_offset),
      };
      this.o.log.info(
        { partition, nextOffset: owned.nextOffset, open: snapshot.sessions.length },
        'sessionize state restored',
      );
    } else {
      owned = { nextOffset: 0, checkpointed: undefined };
    }
    this.owned.set(partition, owned);
    return owned;
  }

  private poisonOf(
    batch: InboundBatch,
    offset: string,
    key: Buffer | null,
    value: Buffer,
    code: string,
    reason: string,
  ): PoisonRecord {
    return {
      source: this.name,
      code,
      reason,
      originTopic: batch.topic,
      originPartition: batch.partition,
      originOffset: offset,
      key,
      value,
    };
  }
}
