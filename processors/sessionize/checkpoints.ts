/**
 * Where the sessionize processor keeps its incremental checkpoints: ClickHouse tables
 * `sessionize_state_chunks` and `sessionize_state_commits` (0203_sessionize_state.sql says
 * why a checkpoint is exact: committed epochs only, never reused, chunks tagged by writer).
 *
 * The older one-row-per-partition JSON checkpoints (`sessionize_checkpoints`) are still read
 * when a partition has no incremental checkpoint, so a deployment upgrades in place.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { clickhouseFailure, queryRows } from '../../infra/clickhouse.ts';
import {
  type CheckpointEntry,
  type PartitionMeta,
  type PartitionSnapshot,
  snapshotFromEntries,
} from './sessionizer.ts';
import { readChunk } from './state-codec.ts';

/** Chunks read per query on restore (bounds the memory a restore's reads take). */
const RESTORE_PAGE_CHUNKS = 256;

export interface CheckpointStoreOptions {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly groupId: string;
  readonly topic: string;
}

export interface RestoredCheckpoint {
  readonly snapshot: PartitionSnapshot;
  /** Epoch of the newest commit, of its full checkpoint, and entries written since that. */
  readonly epoch: number;
  readonly baseEpoch: number;
  readonly entriesSinceBase: number;
  /** True: read from the legacy JSON table; the next checkpoint must be a full one. */
  readonly legacy: boolean;
}

export class CheckpointStore {
  private readonly chunks: string;
  private readonly commits: string;

  constructor(private readonly o: CheckpointStoreOptions) {
    this.chunks = `${o.database}.sessionize_state_chunks`;
    this.commits = `${o.database}.sessionize_state_commits`;
  }

  private key(partition: number): { g: string; t: string; p: number } {
    return { g: this.o.groupId, t: this.o.topic, p: partition };
  }

  /** The first epoch a new writer of this partition may use: above every epoch present. */
  async nextEpoch(partition: number): Promise<number> {
    try {
      const rows = await queryRows<{ e: string | number }>(
        this.o.client,
        `SELECT greatest(
           (SELECT max(epoch) FROM ${this.chunks} WHERE group_id = {g:String} AND topic = {t:String} AND partition = {p:UInt32}),
           (SELECT max(epoch) FROM ${this.commits} WHERE group_id = {g:String} AND topic = {t:String} AND partition = {p:UInt32})
         ) AS e`,
        this.key(partition),
      );
      return Number(rows[0]?.e ?? 0) + 1;
    } catch (cause) {
      throw clickhouseFailure('reading sessionize checkpoint epochs', cause);
    }
  }

  /** Writes consecutive chunks of one epoch, numbered from `firstChunk`, in one insert. */
  async writeChunks(
    partition: number,
    epoch: number,
    writer: string,
    firstChunk: number,
    chunks: ReadonlyArray<{ readonly bytes: Buffer; readonly entries: number }>,
  ): Promise<void> {
    if (chunks.length === 0) return;
    try {
      await this.o.client.insert({
        table: this.chunks,
        values: chunks.map((c, i) => ({
          group_id: this.o.groupId,
          topic: this.o.topic,
          partition,
          epoch,
          writer,
          chunk: firstChunk + i,
          entries: c.entries,
          data: c.bytes.toString('base64'),
        })),
        format: 'JSONEachRow',
      });
    } catch (cause) {
      throw clickhouseFailure('writing sessionize checkpoint chunks', cause);
    }
  }

  async commit(c: {
    partition: number;
    epoch: number;
    writer: string;
    baseEpoch: number;
    chunks: number;
    meta: PartitionMeta;
  }): Promise<void> {
    try {
      await this.o.client.insert({
        table: this.commits,
        values: [
          {
            group_id: this.o.groupId,
            topic: this.o.topic,
            partition: c.partition,
            epoch: c.epoch,
            writer: c.writer,
            base_epoch: c.baseEpoch,
            chunks: c.chunks,
            next_offset: c.meta.nextOffset,
            open_sessions: c.meta.openSessions,
            meta: JSON.stringify(c.meta),
          },
        ],
        format: 'JSONEachRow',
      });
    } catch (cause) {
      throw clickhouseFailure('committing a sessionize checkpoint', cause);
    }
  }

  /** Deletes what a committed full checkpoint at `baseEpoch` made obsolete. */
  async dropBefore(partition: number, baseEpoch: number): Promise<void> {
    const params = { ...this.key(partition), b: baseEpoch };
    const where = `group_id = {g:String} AND topic = {t:String} AND partition = {p:UInt32} AND epoch < {b:UInt64}`;
    try {
      await this.o.client.command({
        query: `ALTER TABLE ${this.chunks} DELETE WHERE ${where}`,
        query_params: params,
      });
      await this.o.client.command({
        query: `ALTER TABLE ${this.commits} DELETE WHERE ${where}`,
        query_params: params,
      });
    } catch (cause) {
      throw clickhouseFailure('deleting obsolete sessionize checkpoints', cause);
    }
  }

  /** The newest committed state of the partition, or undefined if it has none. */
  async latest(partition: number): Promise<RestoredCheckpoint | undefined> {
    const key = this.key(partition);
    let commits: Array<{ epoch: string; writer: string; base_epoch: string; chunks: number; meta: string }>;
    try {
      commits = await queryRows(
        this.o.client,
        `SELECT epoch, writer, base_epoch, chunks, meta FROM ${this.commits}
         WHERE group_id = {g:String} AND topic = {t:String} AND partition = {p:UInt32}
           AND epoch >= (SELECT base_epoch FROM ${this.commits}
                         WHERE group_id = {g:String} AND topic = {t:String} AND partition = {p:UInt32}
                         ORDER BY epoch DESC LIMIT 1)
         ORDER BY epoch`,
        key,
      );
    } catch (cause) {
      throw clickhouseFailure('reading sessionize checkpoint commits', cause);
    }
    const newest = commits[commits.length - 1];
    if (newest === undefined) return this.legacy(partition);
    const baseEpoch = Number(newest.base_epoch);
    const chain = commits.filter((c) => Number(c.epoch) >= baseEpoch);
    const entries: CheckpointEntry[] = [];
    let entriesSinceBase = 0;
    for (const c of chain) {
      for (let from = 0; from < c.chunks; from += RESTORE_PAGE_CHUNKS) {
        let rows: Array<{ chunk: number; entries: number; data: string }>;
        try {
          rows = await queryRows(
            this.o.client,
            `SELECT chunk, entries, data FROM ${this.chunks}
             WHERE group_id = {g:String} AND topic = {t:String} AND partition = {p:UInt32}
               AND epoch = {e:UInt64} AND writer = {w:String} AND chunk >= {from:UInt32} AND chunk < {to:UInt32}
             ORDER BY chunk`,
            { ...key, e: Number(c.epoch), w: c.writer, from, to: from + RESTORE_PAGE_CHUNKS },
          );
        } catch (cause) {
          throw clickhouseFailure('reading sessionize checkpoint chunks', cause);
        }
        const expected = Math.min(RESTORE_PAGE_CHUNKS, c.chunks - from);
        if (rows.length !== expected) {
          throw clickhouseFailure(
            'reading sessionize checkpoint chunks',
            new Error(
              `epoch ${c.epoch} of partition ${partition}: ${rows.length} of ${expected} chunks found`,
            ),
          );
        }
        for (const r of rows) {
          entriesSinceBase += r.entries;
          for (const e of readChunk(Buffer.from(r.data, 'base64'))) entries.push(e as CheckpointEntry);
        }
      }
    }
    const meta = JSON.parse(newest.meta) as PartitionMeta;
    return {
      snapshot: snapshotFromEntries(meta, entries),
      epoch: Number(newest.epoch),
      baseEpoch,
      entriesSinceBase,
      legacy: false,
    };
  }

  private async legacy(partition: number): Promise<RestoredCheckpoint | undefined> {
    let rows: Array<{ next_offset: string | number; state: string }>;
    try {
      rows = await queryRows<{ next_offset: string | number; state: string }>(
        this.o.client,
        `SELECT next_offset, state FROM ${this.o.database}.sessionize_checkpoints FINAL
         WHERE group_id = {g:String} AND topic = {t:String} AND partition = {p:UInt32}`,
        this.key(partition),
      );
    } catch (cause) {
      throw clickhouseFailure('reading a sessionize checkpoint', cause);
    }
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      snapshot: { ...(JSON.parse(row.state) as PartitionSnapshot), nextOffset: Number(row.next_offset) },
      epoch: 0,
      baseEpoch: 0,
      entriesSinceBase: 0,
      legacy: true,
    };
  }
}
