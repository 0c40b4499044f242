/**
 * insertCompact (JSONCompactEachRow, values by position) stores exactly what a JSONEachRow
 * insert of the same objects stores, defaults for missing values included, on the configured
 * ClickHouse (embedded chDB unless CLICKHOUSE_URL is set).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type ClickHouse, insertCompact, openAndMigrate, queryRows } from '../infra/clickhouse.ts';
import { type SessionRow, toSessionRow } from '../processors/qoe/rows.ts';
import { sessionizeOptionsFrom } from '../processors/sessionize/options.ts';
import { Sessionizer } from '../processors/sessionize/sessionizer.ts';
import { testConfig } from './support/stack.ts';
import { generateWorkload } from './support/workload.ts';

interface Row {
  id: string;
  n: number;
  score: number | null;
  tags: string[];
  at: string;
  kind: string;
  note?: string;
  count?: number;
}

const config = testConfig('insertcompact');
let ch: ClickHouse | undefined;

afterAll(async () => {
  if (ch) {
    await ch.client.command({ query: `DROP DATABASE IF EXISTS ${ch.database}` });
    await ch.close();
  }
});

describe('insertCompact', () => {
  it('stores the same rows as a JSONEachRow insert', async () => {
    ch = (await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir })).ch;
    const db = ch.database;
    const columns = `(
      id String, n UInt32, score Nullable(Float64), tags Array(String), at DateTime64(3),
      kind LowCardinality(String), note String DEFAULT 'none', count UInt64 DEFAULT 7
    ) ENGINE = MergeTree ORDER BY id`;
    for (const t of ['by_key', 'by_position']) {
      await ch.client.command({ query: `CREATE TABLE ${db}.${t} ${columns}` });
    }
    const rows: Row[] = Array.from({ length: 2_000 }, (_, i) => ({
      id: `s-${i}`,
      n: i,
      score: i % 3 === 0 ? null : i / 7,
      tags: i % 2 === 0 ? [] : ['a', `t"${i}\\`, 'é'],
      at: new Date(1_795_000_000_000 + i * 1_001).toISOString(),
      kind: i % 2 === 0 ? 'vod' : 'live',
      ...(i % 5 === 0 ? { note: `line\nbreak ${i}` } : {}),
      ...(i % 4 === 0 ? { count: i * 2 } : {}),
    }));
    await ch.client.insert({ table: `${db}.by_key`, values: rows, format: 'JSONEachRow' });
    await insertCompact(ch.client, `${db}.by_position`, rows, [
      'id',
      'n',
      'score',
      'tags',
      'at',
      'kind',
      'note',
      'count',
    ]);
    await insertCompact(ch.client, `${db}.by_position`, [], ['id']);
    const read = (t: string) =>
      queryRows<Record<string, unknown>>(ch!.client, `SELECT * FROM ${db}.${t} ORDER BY n`);
    const [byKey, byPosition] = [await read('by_key'), await read('by_position')];
    expect(byPosition).toHaveLength(2_000);
    expect(byPosition).toEqual(byKey);
    // Defaults and nulls as written by hand, not only equal to each other.
    expect(byPosition[1]).toMatchObject({ note: 'none', count: 7, score: 1 / 7 });
    expect(byPosition[0]).toMatchObject({ note: 'line\nbreak 0', count: 0, score: null });
  });

  it('stores session rows of the `sessions` table as JSONEachRow does (tuples, DateTime64, nulls)', async () => {
    const client = ch!.client;
    const db = ch!.database;
    // Summaries of a generated workload, folded as the sessionize processor folds them.
    const sessionizer = new Sessionizer(sessionizeOptionsFrom(config));
    const { events } = generateWorkload({
      sessions: 500,
      seed: 7,
      startMs: Date.UTC(2026, 10, 26, 12),
      spreadMs: 60_000,
    });
    for (let i = 0; i < events.length; i++) sessionizer.add(events[i]!, { partition: 0, offset: i });
    sessionizer.advanceWatermarkTo(Number.POSITIVE_INFINITY);
    const rows = sessionizer.drain().map(toSessionRow);
    expect(rows.length).toBeGreaterThan(400);
    expect(rows.some((r) => r.experiments.length > 0)).toBe(true);
    expect(rows.some((r) => r.startup_ms === null)).toBe(true);
    for (const t of ['sessions_by_key', 'sessions_by_position']) {
      await client.command({ query: `CREATE TABLE ${db}.${t} AS ${db}.sessions` });
    }
    await client.insert({ table: `${db}.sessions_by_key`, values: rows, format: 'JSONEachRow' });
    const columns = Object.keys(rows[0]!) as Array<keyof SessionRow>;
    await insertCompact(client, `${db}.sessions_by_position`, rows, [columns[0]!, ...columns.slice(1)]);
    const read = (t: string) =>
      queryRows<Record<string, unknown>>(
        client,
        `SELECT * EXCEPT written_at FROM ${db}.${t} ORDER BY summary_id`,
      );
    const [byKey, byPosition] = [await read('sessions_by_key'), await read('sessions_by_position')];
    expect(byPosition).toHaveLength(rows.length);
    expect(byPosition).toEqual(byKey);
  });
});
