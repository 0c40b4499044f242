/**
 * Versioned SQL migrations, applied in order at start and recorded in
 * `<db>.schema_migrations`. A file is `NNNN_name.sql`; `{db}` in it stands for the
 * configured database. Statements are separated by a `;` at the end of a line.
 *
 * A migration that was applied and then edited is an error, not a silent re-run: its
 * checksum no longer matches, and the fix is a new migration.
 *
 * Number ranges keep parallel work apart: 0001-0099 foundation, 0100 ingest, 0200 qoe,
 * 0300 experiments, 0400 control plane and feedback, 0500 dashboards.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { PlayloopError } from '../core/errors.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
  readonly statements: readonly string[];
}

export interface MigrationReport {
  readonly applied: readonly string[];
  readonly alreadyApplied: number;
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function readMigrations(dir: string, database: string): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const seen = new Map<number, string>();
  return files.map((file) => {
    const match = FILE.exec(file);
    if (!match) {
      throw new PlayloopError('MIGRATION_FAILED', `migration file ${file} is not named NNNN_name.sql`);
    }
    const version = Number(match[1]);
    const other = seen.get(version);
    if (other)
      throw new PlayloopError('MIGRATION_FAILED', `migrations ${other} and ${file} share version ${version}`);
    seen.set(version, file);
    const text = readFileSync(join(dir, file), 'utf8');
    return {
      version,
      name: match[2] as string,
      checksum: createHash('sha256').update(text).digest('hex').slice(0, 16),
      statements: splitStatements(text.replaceAll('{db}', database)),
    };
  });
}

export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export async function applyMigrations(
  client: ClickHouseClient,
  database: string,
  dir: string,
): Promise<MigrationReport> {
  const migrations = readMigrations(dir, database);
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${database}.schema_migrations
      (version UInt32, name String, checksum String, applied_at DateTime64(3) DEFAULT now64(3))
      ENGINE = MergeTree ORDER BY version`,
  });
  const rows = await (
    await client.query({
      query: `SELECT version, name, checksum FROM ${database}.schema_migrations ORDER BY version`,
      format: 'JSONEachRow',
    })
  ).json<{ version: number; name: string; checksum: string }>();
  const done = new Map(rows.map((r) => [Number(r.version), r]));
  const applied: string[] = [];
  for (const m of migrations) {
    const prior = done.get(m.version);
    if (prior) {
      if (prior.checksum !== m.checksum) {
        throw new PlayloopError(
          'MIGRATION_FAILED',
          `migration ${m.version}_${m.name} changed after it was applied (checksum ${prior.checksum} -> ${m.checksum}); add a new migration instead`,
        );
      }
      continue;
    }
    for (const statement of m.statements) {
      try {
        await client.command({ query: statement });
      } catch (cause) {
        throw new PlayloopError(
          'MIGRATION_FAILED',
          `migration ${m.version}_${m.name} failed: ${cause instanceof Error ? cause.message : String(cause)}\n${statement.slice(0, 500)}`,
          { cause },
        );
      }
    }
    await client.insert({
      table: `${database}.schema_migrations`,
      values: [{ version: m.version, name: m.name, checksum: m.checksum }],
      format: 'JSONEachRow',
    });
    applied.push(`${String(m.version).padStart(4, '0')}_${m.name}`);
  }
  return { applied, alreadyApplied: migrations.length - applied.length };
}
