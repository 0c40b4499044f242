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
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { Counter, type Registry } from 'prom-client';
import { errorMessage, PlayloopError } from '../../core/errors.ts';
import { clickhouseFailure } from '../../infra/clickhouse.ts';
import type { AvroCodec } from '../../infra/registry.ts';
import type { SessionSummary } from '../../schemas/generated/playback-session.ts';
import type { DeadLetterWriter, PoisonRecord } from '../runtime/dead-letters.ts';
import type { InboundBatch, Processor, TopicPartition } from '../runtime/partition-consumer.ts';
import { Serial } from '../runtime/serial.ts';
import { materialize } from './materialize.ts';
import { type SessionRow, toSessionRow } from './rows.ts';
import { DirtyWindows } from './windows.ts';

export interface QoeProcessorOptions {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly codec: AvroCodec<SessionSummary>;
  readonly deadLetters: DeadLetterWriter;
  readonly windowSizesSec: readonly number[];
  /** Insert as soon as this many rows are buffered, without waiting for the tick. */
  readonly maxBufferedRows: number;
  readonly metrics: Registry;
}

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
  private readonly serial = new Serial();
  private readonly partitions = new Map<string, PartitionState>();
  private readonly dirty: DirtyWindows;
  private buffer: SessionRow[] = [];
  /** Partition -> the next offset once `buffer` is written. */
  private bufferedThrough = new Map<string, bigint>();
  private readonly rowsWritten: Counter;
  private readonly windowsMaterialized: Counter;
  private readonly poison: Counter;

  constructor(private readonly options: QoeProcessorOptions) {
    this.dirty = new DirtyWindows(options.windowSizesSec);
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
      for (const m of batch.messages) {
        const offset = BigInt(m.offset);
        if (offset < state.nextOffset) continue; // seen before: a redelivery
        state.nextOffset = offset + 1n;
        if (m.value === null) continue; // a tombstone carries no session
        let summary: SessionSummary;
        try {
          summary = this.options.codec.decodeOwn(m.value) ?? (await this.options.codec.decode(m.value));
        } catch (err) {
          if (err instanceof PlayloopError && err.retriable) throw err;
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
      }
      if (poison.length > 0) {
        await this.options.deadLetters.write(poison);
        this.poison.inc(poison.length);
      }
      this.bufferedThrough.set(key, state.nextOffset);
      if (this.buffer.length >= this.options.maxBufferedRows) await this.flushRows();
    });
  }

  onTick(): Promise<void> {
    return this.serial.run(async () => {
      await this.flushRows();
      await this.materializeDirty();
    });
  }

  onStop(): Promise<void> {
    return this.onTick();
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

  private async flushRows(): Promise<void> {
    if (this.buffer.length > 0) {
      const rows = this.buffer;
      try {
        await this.options.client.insert({
          table: `${this.options.database}.sessions`,
          values: rows,
          format: 'JSONEachRow',
        });
      } catch (cause) {
        throw clickhouseFailure(`inserting ${rows.length} session rows`, cause);
      }
      this.buffer = [];
      this.rowsWritten.inc(rows.length);
    }
    for (const [key, through] of this.bufferedThrough) {
      const state = this.partitions.get(key);
      if (state) state.written = through;
    }
    this.bufferedThrough.clear();
  }

  private async materializeDirty(): Promise<void> {
    const ranges = this.dirty.drain();
    if (ranges.length > 0) {
      try {
        await materialize(this.options.client, this.options.database, ranges);
      } catch (cause) {
        this.dirty.restore(ranges);
        throw clickhouseFailure('recomputing QoE windows', cause);
      }
      this.windowsMaterialized.inc(ranges.length);
    }
    for (const state of this.partitions.values()) state.committable = state.written;
  }
}
