/**
 * insertColumns (JSONColumns, one array per column) stores exactly what a JSONEachRow
 * insert of the same objects stores, defaults for missing values included, on the configured
 * ClickHouse (embedded chDB unless CLICKHOUSE_URL is set).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type ClickHouse, insertColumns, openAndMigrate, queryRows } from '../infra/clickhouse.ts';
import { SESSION_ROW_COLUMNS, toSessionRow } from '../processors/qoe/rows.ts';
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
}

const config = testConfig('insertcompact');
let ch: ClickHouse | undefined;

afterAll(async () => {
  if (ch) {
    await ch.client.command({ query: `DROP DATABASE IF EXISTS ${ch.database}` });
    await ch.close();
  }
});

describe('insertColumns', () => {
  it('stores the same rows as a JSONEachRow insert', async () => {
    ch = (await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir })).ch;
    const db = ch.database;
    const columns = `(
      id String, n UInt32, score Nullable(Float64), tags Array(String), at DateTime64(3),
      kind LowCardinality(String), note String DEFAULT 'none', count UInt64 DEFAULT 7
    ) ENGINE = MergeTree ORDER BY id`;
    for (const t of ['by_key', 'by_columns']) {
      await ch.client.command({ query: `CREATE TABLE ${db}.${t} ${columns}` });
    }
    const rows: Row[] = Array.from({ length: 2_000 }, (_, i) => ({
      id: `s-${i}`,
      n: i,
      score: i % 3 === 0 ? null : i / 7,
      tags: i % 2 === 0 ? [] : ['a', `t"${i}\\`, 'é'],
      at: new Date(1_795_000_000_000 + i * 1_001).toISOString(),
      kind: i % 5 === 0 ? `line\nbreak; "${i}"` : i % 2 === 0 ? 'vod' : 'live',
    }));
    // note and count are left out of both inserts: both take the columns' DEFAULT expressions.
    await ch.client.insert({ table: `${db}.by_key`, values: rows, format: 'JSONEachRow' });
    await insertColumns(ch.client, `${db}.by_columns`, rows, ['id', 'n', 'score', 'tags', 'at', 'kind']);
    await insertColumns<Row>(ch.client, `${db}.by_columns`, [], ['id']);
    const read = (t: string) =>
      queryRows<Record<string, unknown>>(ch!.client, `SELECT * FROM ${db}.${t} ORDER BY n`);
    const [byKey, byColumns] = [await read('by_key'), await read('by_columns')];
    expect(byColumns).toHaveLength(2_000);
    expect(byColumns).toEqual(byKey);
    // Defaults, nulls and escapes as written by hand, not only equal to each other.
    expect(byColumns[1]).toMatchObject({ note: 'none', count: 7, score: 1 / 7, tags: ['a', 't"1\\', 'é'] });
    expect(byColumns[0]).toMatchObject({ kind: 'line\nbreak; "0"', note: 'none', score: null });
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
    for (const t of ['sessions_by_key', 'sessions_by_columns']) {
      await client.command({ query: `CREATE TABLE ${db}.${t} AS ${db}.sessions` });
    }
    await client.insert({ table: `${db}.sessions_by_key`, values: rows, format: 'JSONEachRow' });
    // The column list the qoe processor writes with: every column of SessionRow.
    await insertColumns(client, `${db}.sessions_by_columns`, rows, SESSION_ROW_COLUMNS);
    const read = (t: string) =>
      queryRows<Record<string, unknown>>(
        client,
        `SELECT * EXCEPT written_at FROM ${db}.${t} ORDER BY summary_id`,
      );
    const [byKey, byColumns] = [await read('sessions_by_key'), await read('sessions_by_columns')];
    expect(byColumns).toHaveLength(rows.length);
    expect(byColumns).toEqual(byKey);
  });
});
