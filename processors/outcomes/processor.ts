/**
 * The outcomes processor: experiment.allocations + playback.sessions -> ClickHouse
 * `experiment_allocations`, `experiment_sessions` and `experiment_units` (README.md beside
 * this file), the tables the experiment analysis reads.
 *
 * Why the numbers are exact under crashes, retries, replays and any arrival order:
 * 1. Both inputs are copied into ClickHouse under deterministic keys (an allocation event's
 *    content; a session view's summary id) in ReplacingMergeTree tables read with FINAL, so
 *    a record written twice counts once.
 * 2. The derived rows are recomputed from those inputs for every viewer a batch touched,
 *    never incremented (recompute.ts). A session that arrives before its allocation is
 *    joined when the allocation arrives, because the allocation touches the same viewer.
 * 3. An offset is declared committable only after its record is in ClickHouse AND the
 *    viewers it touched were recomputed. A crash before that replays the records, and 1 and
 *    2 make the replay change nothing.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { Counter, type Registry } from 'prom-client';
import { errorMessage, PlayloopError } from '../../core/errors.ts';
import { clickhouseFailure } from '../../infra/clickhouse.ts';
import type { AvroCodec } from '../../infra/registry.ts';
import type { ExperimentAllocation } from '../../schemas/generated/experiment-allocation.ts';
import type { SessionSummary } from '../../schemas/generated/playback-session.ts';
import type { DeadLetterWriter, PoisonRecord } from '../runtime/dead-letters.ts';
import type {
  InboundBatch,
  InboundMessage,
  Processor,
  TopicPartition,
} from '../runtime/partition-consumer.ts';
import { Serial } from '../runtime/serial.ts';
import { type RecomputeSettings, recomputeViewers } from './recompute.ts';
import {
  type AllocationEventRow,
  type StepResult,
  toAllocationEventRow,
  toViewerSessionRow,
  type ViewerSessionRow,
} from './rows.ts';

export interface OutcomesProcessorOptions {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly allocationsTopic: string;
  readonly sessionsTopic: string;
  readonly allocationCodec: AvroCodec<ExperimentAllocation>;
  readonly sessionCodec: AvroCodec<SessionSummary>;
  readonly deadLetters: DeadLetterWriter;
  readonly recompute: RecomputeSettings;
  /** Insert as soon as this many rows are buffered, without waiting for the tick. */
  readonly maxBufferedRows: number;
  /**
   * Shortest time between two flushes (rows written, touched viewers recomputed, offsets
   * declared committable); ticks in between do nothing. Default DEFAULT_RECOMPUTE_INTERVAL_MS.
   * Stopping always flushes.
   */
  readonly recomputeIntervalMs?: number;
  readonly metrics: Registry;
}

/**
 * Five seconds between recomputations. Each one runs three joins over FINAL tables per 2,000
 * viewers, a cost mostly per statement and per part, not per viewer: on every 1 s tick, at
 * 20,000 events/s (1,600 sessions/s), they kept one embedded-ClickHouse thread busy most of
 * each second (freshness bench: ~300 ms a statement), beside the qoe cycles readers wait for.
 * Nothing reads experiment outcomes that fresh: the analysis runs every
 * feedback.abr.intervalMs (30 s by default).
 */
export const DEFAULT_RECOMPUTE_INTERVAL_MS = 5_000;

interface PartitionState {
  /** The next offset not yet seen (messages below it were buffered or written already). */
  nextOffset: bigint;
  /** Next offset whose predecessors are in ClickHouse, viewers not necessarily recomputed. */
  written: bigint | undefined;
  /** Next offset whose predecessors are written and whose viewers are recomputed. */
  committable: bigint | undefined;
}

const tpKey = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

export class OutcomesProcessor implements Processor {
  readonly name = 'outcomes';
  private readonly serial = new Serial();
  private readonly partitions = new Map<string, PartitionState>();
  private allocationRows: AllocationEventRow[] = [];
  private sessionRows: ViewerSessionRow[] = [];
  /** Viewers whose derived rows must be recomputed once the buffered rows are written. */
  private dirty = new Set<string>();
  /** Partition -> the next offset once the buffers are written. */
  private readonly bufferedThrough = new Map<string, bigint>();
  private readonly rowsWritten: Counter;
  private readonly viewersRecomputed: Counter;
  private readonly poison: Counter;
  private readonly recomputeIntervalMs: number;
  /** When the last flush started (0: none yet, so the first tick flushes). */
  private lastFlushAt = 0;

  constructor(private readonly options: OutcomesProcessorOptions) {
    this.recomputeIntervalMs = options.recomputeIntervalMs ?? DEFAULT_RECOMPUTE_INTERVAL_MS;
    this.rowsWritten = new Counter({
      name: 'playloop_outcomes_rows_written_total',
      help: 'Allocation and session rows inserted into ClickHouse (replays included; FINAL collapses them)',
      labelNames: ['table'],
      registers: [options.metrics],
    });
    this.viewersRecomputed = new Counter({
      name: 'playloop_outcomes_viewers_recomputed_total',
      help: 'Viewers whose experiment units and sessions were recomputed',
      registers: [options.metrics],
    });
    this.poison = new Counter({
      name: 'playloop_outcomes_dead_lettered_total',
      help: 'Allocation and session records sent to the dead-letter topic',
      labelNames: ['topic'],
      registers: [options.metrics],
    });
  }

  onBatch(batch: InboundBatch): Promise<void> {
    return this.serial.run(async () => {
      const key = tpKey(batch);
      const state = this.partitions.get(key) ?? {
        nextOffset: -1n,
        written: undefined,
        committable: undefined,
      };
      this.partitions.set(key, state);
      const poison: PoisonRecord[] = [];
      const isAllocations = batch.topic === this.options.allocationsTopic;
      for (const m of batch.messages) {
        const offset = BigInt(m.offset);
        if (offset < state.nextOffset) continue; // seen before: a redelivery
        state.nextOffset = offset + 1n;
        if (m.value === null) continue; // a tombstone carries nothing
        const reason = isAllocations ? await this.takeAllocation(batch, m) : await this.takeSession(m);
        if (reason !== undefined) {
          poison.push({
            source: this.name,
            code: 'PLAYLOOP_INVALID_EVENT',
            reason,
            originTopic: batch.topic,
            originPartition: batch.partition,
            originOffset: m.offset,
            key: m.key,
            value: m.value,
          });
        }
      }
      if (poison.length > 0) {
        await this.options.deadLetters.write(poison);
        this.poison.inc({ topic: batch.topic }, poison.length);
      }
      this.bufferedThrough.set(key, state.nextOffset);
      if (this.allocationRows.length + this.sessionRows.length >= this.options.maxBufferedRows) {
        await this.flushRows();
      }
    });
  }

  async onTick(nowMs: number = Date.now()): Promise<void> {
    if (nowMs - this.lastFlushAt < this.recomputeIntervalMs) return;
    await this.flush();
  }

  onStop(): Promise<void> {
    return this.flush();
  }

  private flush(): Promise<void> {
    return this.serial.run(async () => {
      this.lastFlushAt = Date.now();
      await this.flushRows();
      await this.recomputeDirty();
    });
  }

  committableOffset(tp: TopicPartition): string | undefined {
    return this.partitions.get(tpKey(tp))?.committable?.toString();
  }

  onRevoked(partitions: readonly TopicPartition[]): void {
    // Buffered rows of a revoked partition may still be written and recomputed (idempotent);
    // what matters is that we stop claiming its offsets. The next owner replays from the
    // committed one.
    for (const tp of partitions) {
      this.partitions.delete(tpKey(tp));
      this.bufferedThrough.delete(tpKey(tp));
    }
  }

  /** Decodes and buffers one allocation; returns the reason when it is bad data. */
  private async takeAllocation(batch: InboundBatch, m: InboundMessage): Promise<string | undefined> {
    const decoded = await decodeWith(this.options.allocationCodec, m.value as Buffer, 'allocation event');
    if (typeof decoded === 'string') return decoded;
    const result: StepResult<AllocationEventRow> = toAllocationEventRow(decoded, {
      partition: batch.partition,
      offset: m.offset,
    });
    if (!result.ok) return result.reason;
    this.allocationRows.push(result.row);
    this.dirty.add(result.row.viewer_id);
    return undefined;
  }

  private async takeSession(m: InboundMessage): Promise<string | undefined> {
    const decoded = await decodeWith(this.options.sessionCodec, m.value as Buffer, 'session summary');
    if (typeof decoded === 'string') return decoded;
    const row = toViewerSessionRow(decoded);
    this.sessionRows.push(row);
    if (row.viewer_id !== '') this.dirty.add(row.viewer_id);
    return undefined;
  }

  private async flushRows(): Promise<void> {
    const { client, database } = this.options;
    if (this.allocationRows.length > 0) {
      const rows = this.allocationRows;
      try {
        await client.insert({
          table: `${database}.experiment_allocation_events`,
          values: rows,
          format: 'JSONEachRow',
        });
      } catch (cause) {
        throw clickhouseFailure(`inserting ${rows.length} allocation event rows`, cause);
      }
      this.allocationRows = [];
      this.rowsWritten.inc({ table: 'experiment_allocation_events' }, rows.length);
    }
    if (this.sessionRows.length > 0) {
      const rows = this.sessionRows;
      try {
        await client.insert({
          table: `${database}.experiment_viewer_sessions`,
          values: rows,
          format: 'JSONEachRow',
        });
      } catch (cause) {
        throw clickhouseFailure(`inserting ${rows.length} viewer session rows`, cause);
      }
      this.sessionRows = [];
      this.rowsWritten.inc({ table: 'experiment_viewer_sessions' }, rows.length);
    }
    for (const [key, through] of this.bufferedThrough) {
      const state = this.partitions.get(key);
      if (state) state.written = through;
    }
    this.bufferedThrough.clear();
  }

  private async recomputeDirty(): Promise<void> {
    if (this.dirty.size > 0) {
      const viewers = [...this.dirty].sort();
      this.dirty = new Set();
      try {
        await recomputeViewers(this.options.client, this.options.database, viewers, this.options.recompute);
      } catch (cause) {
        // Put them back (with any touched meanwhile): the next tick tries again, and nothing
        // is committable until it succeeds.
        for (const v of viewers) this.dirty.add(v);
        throw clickhouseFailure(`recomputing experiment outcomes of ${viewers.length} viewers`, cause);
      }
      this.viewersRecomputed.inc(viewers.length);
    }
    for (const state of this.partitions.values()) state.committable = state.written;
  }
}

/** The decoded value, or the reason it cannot be decoded (bad data). Registry outages are thrown. */
async function decodeWith<T>(codec: AvroCodec<T>, value: Buffer, what: string): Promise<T | string> {
  try {
    return codec.decodeOwn(value) ?? (await codec.decode(value));
  } catch (err) {
    if (err instanceof PlayloopError && err.retriable) throw err;
    return `undecodable ${what}: ${errorMessage(err)}`;
  }
}
