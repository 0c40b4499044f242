/**
 * The steering role's own consumer of playback.events: copies every segment download,
 * segment load error and OCA-naming event into ClickHouse `steering_segments`
 * (segment-rows.ts), the segment-level evidence the steering tick reads.
 *
 * Exact under crashes, retries and replays, like the other processors:
 * - a row's key is its Kafka (partition, offset) with the event time in front, in a
 *   ReplacingMergeTree read with FINAL: a record written twice counts once;
 * - an offset is declared committable (the runtime commits it) only after every row before
 *   it is in ClickHouse; a crash replays from the last commit and changes no number.
 *
 * Bad data: a value that does not decode is skipped and counted, not dead-lettered. The
 * sessionize processor reads the same topic and dead-letters it with its reason; a second
 * copy in the DLQ would say nothing new. A registry outage is retriable and retried.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { Counter, Registry } from 'prom-client';
import { PlayloopError } from '../../core/errors.ts';
import { sharedCounter } from '../../core/metrics.ts';
import { clickhouseFailure, insertColumns } from '../../infra/clickhouse.ts';
import type { AvroCodec } from '../../infra/registry.ts';
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import type { InboundBatch, Processor, TopicPartition } from '../runtime/partition-consumer.ts';
import { Serial } from '../runtime/serial.ts';
import { SEGMENT_ROW_COLUMNS, type SegmentRow, toSegmentRow } from './segment-rows.ts';
import { STEERING_SEGMENTS_TABLE } from './segments-source.ts';

export interface SegmentSinkOptions {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly codec: AvroCodec<PlaybackEvent>;
  /** Insert as soon as this many rows are buffered, without waiting for the tick. */
  readonly maxBufferedRows: number;
  readonly metrics: Registry;
}

interface PartitionState {
  /** The next offset not yet seen. */
  nextOffset: bigint;
  /** The next offset whose predecessors are all in ClickHouse. */
  written: bigint | undefined;
}

const tpKey = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

export class SegmentSink implements Processor {
  readonly name = 'steering-segments';
  private readonly serial = new Serial();
  private readonly partitions = new Map<string, PartitionState>();
  private rows: SegmentRow[] = [];
  /** Partition -> the next offset once the buffered rows are written. */
  private readonly bufferedThrough = new Map<string, bigint>();
  private readonly written: Counter;
  private readonly undecodable: Counter;

  constructor(private readonly options: SegmentSinkOptions) {
    this.written = sharedCounter(options.metrics, {
      name: 'playloop_steering_segment_rows_written_total',
      help: 'Segment evidence rows inserted into ClickHouse steering_segments (replays included; FINAL collapses them)',
    });
    this.undecodable = sharedCounter(options.metrics, {
      name: 'playloop_steering_segment_undecodable_total',
      help: 'playback.events values the steering segment consumer could not decode (sessionize dead-letters them)',
    });
  }

  onBatch(batch: InboundBatch): Promise<void> {
    return this.serial.run(async () => {
      const key = tpKey(batch);
      const state = this.partitions.get(key) ?? { nextOffset: -1n, written: undefined };
      this.partitions.set(key, state);
      const { codec } = this.options;
      for (const m of batch.messages) {
        const offset = BigInt(m.offset);
        if (offset < state.nextOffset) continue; // seen before: a redelivery
        state.nextOffset = offset + 1n;
        if (m.value === null) continue;
        let event: PlaybackEvent;
        try {
          event = codec.decodeOwn(m.value) ?? (await codec.decode(m.value));
        } catch (err) {
          if (err instanceof PlayloopError && err.retriable) throw err;
          this.undecodable.inc();
          continue;
        }
        const row = toSegmentRow(event, { partition: batch.partition, offset: m.offset });
        if (row !== null) this.rows.push(row);
      }
      this.bufferedThrough.set(key, state.nextOffset);
      if (this.rows.length >= this.options.maxBufferedRows) await this.flush();
    });
  }

  onTick(): Promise<void> {
    return this.serial.run(() => this.flush());
  }

  onStop(): Promise<void> {
    return this.onTick();
  }

  committableOffset(tp: TopicPartition): string | undefined {
    return this.partitions.get(tpKey(tp))?.written?.toString();
  }

  onRevoked(partitions: readonly TopicPartition[]): void {
    // Buffered rows of a revoked partition may still be written (idempotent); we only stop
    // claiming its offsets. The next owner replays from the committed one.
    for (const tp of partitions) {
      this.partitions.delete(tpKey(tp));
      this.bufferedThrough.delete(tpKey(tp));
    }
  }

  private async flush(): Promise<void> {
    if (this.rows.length > 0) {
      const rows = this.rows;
      const { client, database } = this.options;
      try {
        await insertColumns(client, `${database}.${STEERING_SEGMENTS_TABLE}`, rows, SEGMENT_ROW_COLUMNS);
      } catch (cause) {
        throw clickhouseFailure(`inserting ${rows.length} segment evidence rows`, cause);
      }
      this.rows = [];
      this.written.inc(rows.length);
    }
    for (const [key, through] of this.bufferedThrough) {
      const state = this.partitions.get(key);
      if (state) state.written = through;
    }
    this.bufferedThrough.clear();
  }
}
