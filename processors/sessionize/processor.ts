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
import { randomUUID } from 'node:crypto';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Kafka, Producer } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ErrorKinds, errorMessage, PlayloopError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { createProducer } from '../../infra/kafka.ts';
import type { AvroCodec } from '../../infra/registry.ts';
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import type { SessionSummary } from '../../schemas/generated/playback-session.ts';
import type { DeadLetterWriter, PoisonRecord } from '../runtime/dead-letters.ts';
import { kafkaFailure } from '../runtime/kafka-errors.ts';
import type { InboundBatch, Processor, TopicPartition } from '../runtime/partition-consumer.ts';
import { chunkBySize } from '../runtime/send-chunks.ts';
import { Serial } from '../runtime/serial.ts';
import { CheckpointStore } from './checkpoints.ts';
import type { SessionizeOptions } from './options.ts';
import { type CheckpointEntry, type PartitionMeta, Sessionizer } from './sessionizer.ts';
import { CHUNKS_PER_INSERT, encodeChunks } from './state-codec.ts';

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
  /** Change sets larger than this are streamed while consumption waits (see checkpoint()). */
  readonly checkpointSyncMaxEntries?: number;
}

interface Owned {
  /** Offsets below this are reflected in the sessionizer's state. */
  nextOffset: number;
  /** Offset of the newest checkpoint written for this partition. */
  checkpointed: number | undefined;
  /** The epoch the next checkpoint of this partition takes. */
  nextEpoch: number;
  /** Epoch of the newest committed full checkpoint, and entries committed since it. */
  baseEpoch: number;
  entriesSinceBase: number;
  /** The next checkpoint must hold the whole state (none yet, or changes were lost). */
  needsFull: boolean;
  /** Records on the partition not yet read, as of the last batch (high watermark - next offset). */
  behind: number;
}

/** One encoded chunk of checkpoint entries (state-codec.ts), as a chunk row stores it. */
interface Chunk {
  readonly bytes: Buffer;
  readonly entries: number;
}

interface CheckpointJob {
  readonly partition: number;
  readonly owned: Owned;
  readonly epoch: number;
  readonly full: boolean;
  readonly meta: PartitionMeta;
  /** The change set as it was at the cut: encoded, or copies encoded as writeJobs goes. */
  chunks: Iterable<Chunk>;
  readonly entries: number;
  written?: number;
}

/** A full checkpoint replaces the chain once the entries since the last exceed this ... */
const FULL_CHECKPOINT_MIN_ENTRIES = 200_000;
/** ... and this many times the live state (so a restore reads at most a few states' worth). */
const FULL_CHECKPOINT_FACTOR = 4;
/**
 * Change sets up to this many entries are copied at once, then encoded and written in the
 * background. The copies live until encoded: about 600 bytes an entry, so at most ~60 MB.
 */
const DEFAULT_SYNC_MAX_ENTRIES = 100_000;
/** Entries copied between two turns of the event loop (about 5 ms of copying). */
const COPY_SLICE_ENTRIES = 4_096;
/**
 * A partition this many records behind is caught up on, not kept fresh: its checkpoint is
 * encoded at once rather than copied (see checkpoint()). About five seconds of a partition's
 * events at 20,000 events/s over four partitions, the freshness target itself.
 */
const CATCH_UP_BEHIND_RECORDS = 25_000;

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
  private readonly unsequenced: Counter;
  private readonly open: Gauge;
  private readonly checkpointEntries: Counter;
  private readonly store: CheckpointStore;
  /** Tags this instance's checkpoint chunks (two owners of a partition never mix chunks). */
  private readonly writer = randomUUID();
  private readonly syncMaxEntries: number;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly o: SessionizeProcessorOptions) {
    this.sessionizer = new Sessionizer(o.sessionize);
    this.producer = createProducer(o.kafka, { idempotent: true, maxInFlightRequests: 1 });
    this.now = o.now ?? Date.now;
    this.syncMaxEntries = o.checkpointSyncMaxEntries ?? DEFAULT_SYNC_MAX_ENTRIES;
    this.store = new CheckpointStore({
      client: o.client,
      database: o.database,
      groupId: o.groupId,
      topic: o.eventsTopic,
    });
    this.checkpointEntries = new Counter({
      name: 'playloop_sessionize_checkpoint_entries_total',
      help: 'Sessions and tombstones written to checkpoints (changed ones; all in a full checkpoint)',
      registers: [o.metrics],
    });
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
    this.unsequenced = new Counter({
      name: 'playloop_sessionize_unsequenced_events_total',
      help: 'Unsequenced events (seq -1, CMCD beacons) passed over: no session view takes them',
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
        if (disposition === 'unsequenced') this.unsequenced.inc();
        else if (disposition === 'late') {
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
      owned.behind = Number(batch.highWatermark) - owned.nextOffset;
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
        // The interval runs from the cut of a checkpoint (its encoding, or its whole write when
        // streamed); while one is still being written the next tick tries again.
        if (await this.checkpoint({ wait: false })) this.lastCheckpointAt = this.now();
      }
    });
  }

  onStop(): Promise<void> {
    return this.serial.run(async () => {
      await this.produceDrained();
      await this.checkpoint({ wait: true });
      if (this.inFlight !== undefined) await this.inFlight;
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
        throw kafkaFailure(`producing ${chunk.length} of ${this.unsent.length} session summaries`, cause);
      }
      // Chunks are in order, so the acked ones are the head of `unsent`.
      this.unsent.splice(0, chunk.length);
      this.emitted.inc(chunk.length);
    }
  }

  /**
   * Incremental checkpoints (checkpoints.ts, 0203_sessionize_state.sql). Per owned partition,
   * the sessions and tombstones changed since its previous checkpoint are copied right here,
   * between batches (a consistent cut: nothing is folded meanwhile), then encoded into compact
   * binary chunks and written in the background while consumption goes on; the partition's
   * offset becomes committable once its commit row is in. Only one checkpoint is in flight at
   * a time.
   *
   * Copy now, encode later: with events arriving in real time nearly every open session
   * changes between two checkpoints, so each one re-encodes most of the state. Encoded here,
   * at ~60,000 entries a checkpoint (20,000 events/s, the freshness bench), that held the
   * event loop for 340-840 ms every interval, which every processor in the process waited
   * out and which showed as the sessionize lag's spikes. The copy costs a quarter to a third
   * of the encoding and, like it, yields to the event loop every few milliseconds; the
   * encoding then runs a chunk (a few hundred entries) at a time between other work.
   * A partition far behind (CATCH_UP_BEHIND_RECORDS) is encoded at once instead: while it
   * catches up no one waits on its freshness, and the copies, living until encoded, cost
   * about a tenth more CPU per event in the throughput bench (mostly GC).
   *
   * A change set larger than `syncMaxEntries` (the first checkpoint of a big state, or a full
   * one) is instead streamed chunk by chunk while consumption waits: encoding it all up front
   * would hold the whole encoded state in memory at once.
   */
  private async checkpoint(options: { wait: boolean }): Promise<boolean> {
    if (this.inFlight !== undefined) {
      if (!options.wait) return false;
      await this.inFlight;
    }
    if (this.unsent.length > 0) return false;
    const jobs: CheckpointJob[] = [];
    for (const [partition, owned] of [...this.owned]) {
      if (this.owned.get(partition) !== owned) continue;
      const size = this.sessionizer.partitionSize(partition);
      if (owned.checkpointed === owned.nextOffset && !owned.needsFull && size.changed === 0) continue;
      const full =
        owned.needsFull ||
        owned.entriesSinceBase > Math.max(FULL_CHECKPOINT_MIN_ENTRIES, FULL_CHECKPOINT_FACTOR * size.entries);
      const changes = this.sessionizer.checkpointChanges(partition, full);
      try {
        const epoch = owned.nextEpoch++;
        const job: CheckpointJob = {
          partition,
          owned,
          epoch,
          full,
          meta: { ...changes.meta, nextOffset: owned.nextOffset },
          chunks: [],
          entries: changes.count,
        };
        if (changes.count > this.syncMaxEntries) {
          // Streamed under the lock: bounded memory, consumption waits.
          job.written = await this.writeAll(job, ownChunks(changes.entries()), { yieldBetween: false });
          await this.commitCheckpoint(job);
          continue;
        }
        if (owned.behind > CATCH_UP_BEHIND_RECORDS) {
          job.chunks = [...ownChunks(changes.entries())];
        } else {
          // A slice at a time, still under the lock: no batch is folded before the copy is
          // whole, so the cut holds, and the other processors' work runs in between.
          const cut: CheckpointEntry[] = [];
          for (const entry of changes.copies()) {
            if (cut.push(entry) % COPY_SLICE_ENTRIES === 0) await setImmediatePromise();
          }
          job.chunks = ownChunks(cut);
        }
        jobs.push(job);
      } catch (err) {
        // The change set was taken from the sessionizer: only a full checkpoint is exact now.
        owned.needsFull = true;
        throw err;
      }
    }
    if (jobs.length === 0) return true;
    const run = this.writeJobs(jobs).finally(() => {
      this.inFlight = undefined;
    });
    this.inFlight = run;
    if (options.wait) await run;
    return true;
  }

  private async writeJobs(jobs: readonly CheckpointJob[]): Promise<void> {
    for (const job of jobs) {
      try {
        // One chunk at a time: batches, the other processors and I/O go on in between.
        job.written = await this.writeAll(job, job.chunks, { yieldBetween: true });
        job.chunks = [];
        await this.commitCheckpoint(job);
      } catch (err) {
        // Its changes were taken from the sessionizer: the next checkpoint must be a full one.
        job.owned.needsFull = true;
        this.o.log.warn(
          { partition: job.partition, epoch: job.epoch, err: errorMessage(err) },
          'sessionize checkpoint failed; the next one is full',
        );
      }
    }
  }

  /**
   * Writes a checkpoint's chunks, CHUNKS_PER_INSERT to an insert, numbered from 0, and returns
   * how many there were. `yieldBetween`: a turn of the event loop after each chunk that does
   * not fill an insert (the chunks may be encoded as they are asked for).
   */
  private async writeAll(
    job: Pick<CheckpointJob, 'partition' | 'epoch'>,
    chunks: Iterable<Chunk>,
    o: { readonly yieldBetween: boolean },
  ): Promise<number> {
    let n = 0;
    let batch: Chunk[] = [];
    for (const chunk of chunks) {
      batch.push(chunk);
      if (batch.length === CHUNKS_PER_INSERT) {
        await this.store.writeChunks(job.partition, job.epoch, this.writer, n, batch);
        n += batch.length;
        batch = [];
      } else if (o.yieldBetween) {
        await setImmediatePromise();
      }
    }
    await this.store.writeChunks(job.partition, job.epoch, this.writer, n, batch);
    return n + batch.length;
  }

  private async commitCheckpoint(job: CheckpointJob): Promise<void> {
    const { owned } = job;
    // A partition revoked meanwhile is the new owner's to checkpoint.
    if (this.owned.get(job.partition) !== owned) return;
    const baseEpoch = job.full ? job.epoch : owned.baseEpoch;
    await this.store.commit({
      partition: job.partition,
      epoch: job.epoch,
      writer: this.writer,
      baseEpoch,
      chunks: job.written ?? 0,
      meta: job.meta,
    });
    owned.checkpointed = job.meta.nextOffset;
    if (job.full) {
      owned.baseEpoch = job.epoch;
      owned.entriesSinceBase = job.entries;
      owned.needsFull = false;
      // Epochs start at 1 on a partition with no checkpoint rows (store.nextEpoch), so a full
      // checkpoint at epoch 1 has nothing older to delete: skip the two mutations.
      if (job.epoch > 1) {
        await this.store
          .dropBefore(job.partition, job.epoch)
          .catch((err: unknown) =>
            this.o.log.warn(
              { partition: job.partition, err: errorMessage(err) },
              'old checkpoints not deleted',
            ),
          );
      }
    } else {
      owned.entriesSinceBase += job.entries;
    }
    this.checkpointEntries.inc(job.entries);
  }

  private async restore(partition: number): Promise<Owned> {
    // An in-flight checkpoint of a previous ownership must land before epochs are counted.
    if (this.inFlight !== undefined) await this.inFlight;
    const restored = await this.store.latest(partition);
    const nextEpoch = await this.store.nextEpoch(partition);
    let owned: Owned;
    if (restored) {
      this.sessionizer.restore(restored.snapshot);
      owned = {
        nextOffset: restored.snapshot.nextOffset,
        checkpointed: restored.snapshot.nextOffset,
        nextEpoch,
        baseEpoch: restored.baseEpoch,
        entriesSinceBase: restored.entriesSinceBase,
        needsFull: restored.legacy,
        behind: 0,
      };
      this.o.log.info(
        { partition, nextOffset: owned.nextOffset, open: restored.snapshot.sessions.length },
        'sessionize state restored',
      );
    } else {
      owned = {
        nextOffset: 0,
        checkpointed: undefined,
        nextEpoch,
        baseEpoch: 0,
        entriesSinceBase: 0,
        needsFull: true,
        behind: 0,
      };
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

/**
 * The entries' chunks, each encoded when asked for, its bytes copied out of the encoder's
 * buffer (which the next chunk reuses), so they can be kept.
 */
function* ownChunks(entries: Iterable<CheckpointEntry>): Generator<Chunk> {
  for (const chunk of encodeChunks(entries))
    yield { bytes: Buffer.from(chunk.bytes), entries: chunk.entries };
}
