/**
 * The qoe processor: playback.sessions -> ClickHouse `sessions`, then the window aggregates
 * (`qoe_windows`, `qoe_cells`) recomputed for every window those sessions touched.
 *
 * Why the numbers are exact under crashes, retries and replays:
 * 1. A session row's key is its deterministic summary id; `sessions` is a ReplacingMergeTree
 *    on it and every reader uses FINAL, so a row written twice counts once.
 * 2. A window's aggregate is recomputed from the deduplicated sessions, not incremented; its
 *    row replaces the previous one (ReplacingMergeTree on the window key, newest wins). Doing
 *    it twice gives the same row; a late session just triggers one more recomputation.
 * 3. An offset is declared committable only after its row is in ClickHouse AND its windows
 *    were recomputed. A crash before that replays the records, and 1 and 2 make the replay
 *    change nothing.
 *
 * Freshness: what readers wait for is the smallest window size in `qoe_windows` (steering,
 * the dashboards' live panels). A batch starts a short cycle (at most one every
 * `minCycleIntervalMs`, the next queued while one runs) that writes the buffered rows and
 * recomputes just those windows, instead of everything waiting for the runner's tick, which
 * added up to a whole tick interval. A full cycle, on a tick at most every
 * `fullCycleIntervalMs`, recomputes the rest (`qoe_cells`, the larger sizes, rolled up from the
 * smallest) and only then declares offsets committable, so 3 holds.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { Counter, Histogram, type Registry } from 'prom-client';
import { errorMessage, isRetriable, PlayloopError } from '../../core/errors.ts';
import { clickhouseFailure, insertColumns } from '../../infra/clickhouse.ts';
import type { AvroCodec } from '../../infra/registry.ts';
import type { SessionSummary } from '../../schemas/generated/playback-session.ts';
import type { DeadLetterWriter, PoisonRecord } from '../runtime/dead-letters.ts';
import type { InboundBatch, Processor, TopicPartition } from '../runtime/partition-consumer.ts';
import { Serial } from '../runtime/serial.ts';
import { planMaterialization, runMaterialization } from './materialize.ts';
import { SESSION_ROW_COLUMNS, type SessionRow, toSessionRow } from './rows.ts';
import { DirtyWindows } from './windows.ts';

export interface QoeProcessorOptions {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly codec: AvroCodec<SessionSummary>;
  readonly deadLetters: DeadLetterWriter;
  readonly windowSizesSec: readonly number[];
  /** Insert as soon as this many rows are buffered, without waiting for the tick. */
  readonly maxBufferedRows: number;
  /**
   * Shortest time from the start of one batch-started cycle (write rows, recompute the
   * smallest windows) to the next; default DEFAULT_MIN_CYCLE_INTERVAL_MS. A cycle's cost is
   * mostly fixed (statements, and the open windows reread), not per row, so this bounds the
   * recomputation work per second.
   */
  readonly minCycleIntervalMs?: number;
  /**
   * Shortest time between two full cycles (every dirty window of every size and table, then
   * offsets declared committable); ticks in between do nothing. Default
   * DEFAULT_FULL_CYCLE_INTERVAL_MS. Stopping always runs one.
   */
  readonly fullCycleIntervalMs?: number;
  readonly metrics: Registry;
}

/**
 * A quarter of a second: at most that long added to a session's way into the aggregates by
 * waiting, against at most four recomputations of the open windows per second.
 */
export const DEFAULT_MIN_CYCLE_INTERVAL_MS = 250;

/**
 * Five seconds between full cycles. A full cycle recomputes the cells and the larger windows
 * from scratch for every window touched since the last one, a cost that is mostly per
 * statement and per window, not per session: run on every 1 s tick it kept embedded
 * ClickHouse busy most of each second at 20,000 events/s (freshness bench: 0.6 s per tick
 * cycle) and held the batch cycles, which readers of the smallest windows wait for, behind
 * it. Cells and larger windows (and the committed offset, so a replay after a crash) may lag
 * this much more; the smallest windows do not wait for it.
 */
export const DEFAULT_FULL_CYCLE_INTERVAL_MS = 5_000;

interface PartitionState {
  /** The next offset not yet seen (messages below it were buffered or written already). */
  nextOffset: bigint;
  /** Next offset whose predecessors are in ClickHouse, windows not necessarily recomputed. */
  written: bigint | undefined;
  /** Next offset whose predecessors are written and whose windows are recomputed. */
  committable: bigint | undefined;
}

const tpKey = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

export class QoeProcessor implements Processor {
  readonly name = 'qoe';
  /** Batches, one at a time. */
  private readonly serial = new Serial();
  /** Cycles (ClickHouse writes and recomputations), one at a time, beside the batches. */
  private readonly io = new Serial();
  private readonly partitions = new Map<string, PartitionState>();
  /** Windows of every size and both tables to recompute on the next tick. */
  private readonly dirty: DirtyWindows;
  /** Windows of the smallest size whose qoe_windows rows the next cycle recomputes. */
  private readonly fresh: DirtyWindows;
  private buffer: SessionRow[] = [];
  /** Partition -> the next offset once `buffer` is written. */
  private bufferedThrough = new Map<string, bigint>();
  private readonly rowsWritten: Counter;
  private readonly windowsMaterialized: Counter;
  private readonly poison: Counter;
  private readonly cycleSeconds: Histogram;
  private readonly minCycleIntervalMs: number;
  private readonly fullCycleIntervalMs: number;
  /** When the last full cycle started (0: none yet, so the first tick runs one). */
  private lastFullCycleAt = 0;
  /** A cycle is waiting for its timer or its turn: batches arriving meanwhile join it. */
  private cycleRequested = false;
  private cycleTimer: NodeJS.Timeout | undefined;
  private lastCycleAt = 0;
  private stopped = false;
  /** A non-retriable failure of a batch-started cycle, handed to the runner by the next call. */
  private cycleFailure: unknown;

  constructor(private readonly options: QoeProcessorOptions) {
    this.dirty = new DirtyWindows(options.windowSizesSec);
    this.fresh = new DirtyWindows([Math.min(...options.windowSizesSec)]);
    this.rowsWritten = new Counter({
      name: 'playloop_qoe_session_rows_written_total',
      help: 'Session rows inserted into ClickHouse (replays included; FINAL collapses them)',
      registers: [options.metrics],
    });
    this.windowsMaterialized = new Counter({
      name: 'playloop_qoe_window_ranges_materialized_total',
      help: 'Window ranges recomputed from sessions',
      registers: [options.metrics],
    });
    this.poison = new Counter({
      name: 'playloop_qoe_dead_lettered_total',
      help: 'Session records sent to the dead-letter topic',
      registers: [options.metrics],
    });
    this.cycleSeconds = new Histogram({
      name: 'playloop_qoe_cycle_seconds',
      help: 'One cycle of the qoe processor: buffered session rows written, dirty windows recomputed (kind batch: the smallest windows only)',
      labelNames: ['kind'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [options.metrics],
    });
    this.minCycleIntervalMs = options.minCycleIntervalMs ?? DEFAULT_MIN_CYCLE_INTERVAL_MS;
    this.fullCycleIntervalMs = options.fullCycleIntervalMs ?? DEFAULT_FULL_CYCLE_INTERVAL_MS;
  }

  onBatch(batch: InboundBatch): Promise<void> {
    return this.serial.run(async () => {
      this.throwCycleFailure();
      const key = tpKey(batch);
      const state = this.partitions.get(key) ?? {
        nextOffset: -1n,
        written: undefined,
        committable: undefined,
      };
      this.partitions.set(key, state);
      // A retriable failure part-way makes the runner hand this batch in again: it must then
      // be read from its start, or the records before the failure (their dead letters
      // included) would be skipped as seen. Rows buffered twice collapse like any replay.
      const startOffset = state.nextOffset;
      const poison: PoisonRecord[] = [];
      for (const m of batch.messages) {
        const offset = BigInt(m.offset);
        if (offset < state.nextOffset) continue; // seen before: a redelivery
        state.nextOffset = offset + 1n;
        if (m.value === null) continue; // a tombstone carries no session
        let summary: SessionSummary;
        try {
          summary = this.options.codec.decodeOwn(m.value) ?? (await this.options.codec.decode(m.value));
        } catch (err) {
          if (err instanceof PlayloopError && err.retriable) {
            state.nextOffset = startOffset;
            throw err;
          }
          poison.push({
            source: this.name,
            code: 'PLAYLOOP_INVALID_EVENT',
            reason: `undecodable session summary: ${errorMessage(err)}`,
            originTopic: batch.topic,
            originPartition: batch.partition,
            originOffset: m.offset,
            key: m.key,
            value: m.value,
          });
          continue;
        }
        this.buffer.push(toSessionRow(summary));
        this.dirty.touch(summary.endTime);
        this.fresh.touch(summary.endTime);
      }
      if (poison.length > 0) {
        try {
          await this.options.deadLetters.write(poison);
        } catch (err) {
          state.nextOffset = startOffset;
          throw err;
        }
        this.poison.inc(poison.length);
      }
      this.bufferedThrough.set(key, state.nextOffset);
      // Backpressure: a full buffer waits for a cycle to take it; otherwise one is queued.
      if (this.buffer.length >= this.options.maxBufferedRows) {
        await this.io.run(() => this.cycle({ full: false }));
      } else if (this.buffer.length > 0 || this.fresh.size > 0) {
        this.requestCycle();
      }
    });
  }

  async onTick(nowMs: number = Date.now()): Promise<void> {
    this.throwCycleFailure();
    if (nowMs - this.lastFullCycleAt < this.fullCycleIntervalMs) return;
    await this.fullCycle();
  }

  async onStop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.cycleTimer);
    // The runner stopped fetching first; let a batch in hand finish, then flush everything.
    await this.serial.run(async () => undefined);
    this.throwCycleFailure();
    await this.fullCycle();
  }

  private async fullCycle(): Promise<void> {
    this.lastFullCycleAt = Date.now();
    await this.io.run(() => this.cycle({ full: true }));
  }

  committableOffset(tp: TopicPartition): string | undefined {
    return this.partitions.get(tpKey(tp))?.committable?.toString();
  }

  onRevoked(partitions: readonly TopicPartition[]): void {
    // Buffered rows of a revoked partition may still be written (idempotent); what matters
    // is that we stop claiming its offsets. The next owner replays from the committed one.
    for (const tp of partitions) {
      this.partitions.delete(tpKey(tp));
      this.bufferedThrough.delete(tpKey(tp));
    }
  }

  /**
   * Writes the buffered rows and recomputes the smallest windows they touched; when `full`
   * (the tick), every other dirty window too, and then declares offsets committable.
   *
   * Batches go on while a cycle waits on ClickHouse (consumption used to stop for every
   * recomputation). What a cycle handles is cut in one synchronous step at its start: the
   * rows, the offsets they complete and the windows touched so far. Rows that come later are
   * in neither the cut nor the offsets it completes, and their windows stay dirty, so a
   * committable offset still means rows written and every window of them recomputed.
   */
  private async cycle(o: { full: boolean }): Promise<void> {
    const started = Date.now();
    this.lastCycleAt = started;
    const rows = this.buffer;
    const through = this.bufferedThrough;
    this.buffer = [];
    this.bufferedThrough = new Map();
    const fresh = this.fresh.drain();
    const dirty = o.full ? this.dirty.drain() : [];
    const undo = (): void => {
      this.fresh.restore(fresh);
      this.dirty.restore(dirty);
    };
    if (rows.length > 0) {
      try {
        await insertColumns(
          this.options.client,
          `${this.options.database}.sessions`,
          rows,
          SESSION_ROW_COLUMNS,
        );
      } catch (cause) {
        // Back in front of what came meanwhile; a partition's newer offset wins.
        this.buffer = rows.concat(this.buffer);
        for (const [key, offset] of through) {
          if (!this.bufferedThrough.has(key)) this.bufferedThrough.set(key, offset);
        }
        undo();
        throw clickhouseFailure(`inserting ${rows.length} session rows`, cause);
      }
      this.rowsWritten.inc(rows.length);
    }
    for (const [key, offset] of through) {
      const state = this.partitions.get(key);
      if (state) state.written = offset;
    }
    const db = this.options.database;
    try {
      if (fresh.length > 0) {
        await runMaterialization(this.options.client, db, [
          { table: 'qoe_windows', sourceSec: undefined, ranges: fresh },
        ]);
        this.windowsMaterialized.inc(fresh.length);
      }
      // The smallest windows of every row up to the cut are current now: their qoe_windows
      // statement is left out, and the larger sizes roll up from them.
      if (dirty.length > 0) {
        await runMaterialization(
          this.options.client,
          db,
          planMaterialization(dirty, { smallestWindowsCurrent: true }),
        );
        this.windowsMaterialized.inc(dirty.length);
      }
    } catch (cause) {
      undo();
      throw clickhouseFailure('recomputing QoE windows', cause);
    }
    if (o.full) {
      for (const state of this.partitions.values()) state.committable = state.written;
    }
    this.cycleSeconds.observe({ kind: o.full ? 'tick' : 'batch' }, (Date.now() - started) / 1_000);
  }

  /** Queues one cycle after the current one, no sooner than minCycleIntervalMs after the last. */
  private requestCycle(): void {
    if (this.cycleRequested || this.stopped) return;
    this.cycleRequested = true;
    const waitMs = Math.max(0, this.lastCycleAt + this.minCycleIntervalMs - Date.now());
    this.cycleTimer = setTimeout(() => {
      this.cycleTimer = undefined;
      this.io
        .run(async () => {
          // Cleared as the cycle starts, so rows that come while it runs ask for the next one.
          this.cycleRequested = false;
          if (this.stopped || this.cycleFailure !== undefined) return;
          await this.cycle({ full: false });
        })
        .catch((err: unknown) => {
          // A retriable failure put the rows and windows back: the next cycle or tick tries
          // again. Any other must stop the consumer without committing, which the runner does
          // when the next batch or tick throws it.
          if (!isRetriable(err)) this.cycleFailure ??= err;
        });
    }, waitMs);
  }

  private throwCycleFailure(): void {
    if (this.cycleFailure !== undefined) throw this.cycleFailure;
  }
}
