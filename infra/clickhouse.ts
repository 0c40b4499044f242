/**
 * The one module that hands every role its ClickHouse client.
 *
 * Embedded by default: chDB in this process, plugged into `@clickhouse/client` through
 * `chdb/connection`, data under <dataDir>/clickhouse. A real server when `clickhouse.url`
 * (CLICKHOUSE_URL) is set. The same SQL runs on both.
 *
 * chDB binds one data directory to one process, so this module keeps one connection per
 * process and hands the same client to every role in it; in embedded mode every role that
 * touches ClickHouse must run in that one process (see DESIGN.md, Runtime).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { PlayloopError } from '../core/errors.ts';
import { createChdbClient } from './chdb-connection.ts';
import { applyMigrations, type MigrationReport } from './migrations.ts';

export interface ClickHouseSettings {
  readonly url?: string | undefined;
  readonly database: string;
  readonly username?: string;
  readonly password?: string;
  /** Embedded mode keeps its data here. */
  readonly dataDir: string;
}

export interface ClickHouse {
  readonly client: ClickHouseClient;
  readonly mode: 'embedded' | 'server';
  readonly database: string;
  /** Where the data lives: a directory (embedded) or the server URL. */
  readonly location: string;
  close(): Promise<void>;
}

interface Embedded {
  path: string;
  client: ClickHouseClient;
  users: number;
}

let embedded: Embedded | undefined;

/**
 * Output settings that make a server answer JSON the way embedded chDB does, so the same
 * code reads both: 64-bit integers as numbers (exact below 2^53, which counts stay under),
 * NaN and infinities as null.
 */
const SAME_OUTPUT_ON_BOTH = {
  output_format_json_quote_64bit_integers: 0,
  output_format_json_quote_denormals: 0,
  date_time_input_format: 'best_effort',
} as const;

export function openClickHouse(settings: ClickHouseSettings): ClickHouse {
  if (settings.url) {
    const client = createClient({
      url: settings.url,
      username: settings.username ?? 'default',
      password: settings.password ?? '',
      clickhouse_settings: SAME_OUTPUT_ON_BOTH,
    });
    return {
      client,
      mode: 'server',
      database: settings.database,
      location: settings.url,
      close: () => client.close(),
    };
  }
  const path = resolve(settings.dataDir, 'clickhouse');
  if (embedded && embedded.path !== path) {
    throw new PlayloopError(
      'CONFIG_INVALID',
      `embedded ClickHouse is already bound to ${embedded.path} in this process; chDB allows one data directory per process (asked for ${path})`,
    );
  }
  if (!embedded) {
    mkdirSync(path, { recursive: true });
    embedded = { path, client: createChdbClient(path), users: 0 };
  }
  const shared = embedded;
  shared.users += 1;
  let closed = false;
  return {
    client: shared.client,
    mode: 'embedded',
    database: settings.database,
    location: path,
    close: async () => {
      if (closed) return;
      closed = true;
      shared.users -= 1;
      if (shared.users === 0 && embedded === shared) {
        embedded = undefined;
        await shared.client.close();
      }
    },
  };
}

/** Opens ClickHouse, creates the database and applies every pending migration. */
export async function openAndMigrate(
  settings: ClickHouseSettings,
  migrationsDir = defaultMigrationsDir(),
): Promise<{ ch: ClickHouse; migrations: MigrationReport }> {
  const ch = openClickHouse(settings);
  try {
    const migrations = await applyMigrations(ch.client, ch.database, migrationsDir);
    return { ch, migrations };
  } catch (err) {
    await ch.close();
    throw err;
  }
}

export function defaultMigrationsDir(): string {
  return join(import.meta.dirname, 'migrations');
}

/** Runs a query and returns its rows as objects (JSONEachRow). */
export async function queryRows<T>(
  client: ClickHouseClient,
  query: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  const result = await client.query({ query, query_params: params, format: 'JSONEachRow' });
  return result.json<T>();
}

/** The keys of `T` whose values are never undefined (a null is a value). */
export type DefinedKey<T> = { [K in keyof T]-?: undefined extends T[K] ? never : K }[keyof T] & string;

/**
 * Inserts rows column by column, as one JSONColumns document: `{"col": [v0, v1, ...], ...}`,
 * each column's values in one array, in `columns` order. Against JSONCompactEachRow (one JSON
 * array per row, which this replaced), measured on 80,000 `sessions` rows in inserts of 3,000
 * into embedded chDB: writing the text took 440-520 ms of JavaScript against 750-900 ms
 * (V8 stringifies one array of like values faster than many mixed ones), and chDB parsed it
 * in 505-570 ms of its CPU against 825-950 ms (its own ProfileEvents). JSONEachRow objects
 * were slower still.
 *
 * Every listed column takes a value from every row: its type must not admit undefined. A null
 * is for a Nullable column. JSONColumns turns a null in another column into the type's zero,
 * not into the column's DEFAULT expression as JSONEachRow does for a missing key; a column
 * left to its DEFAULT is one left out of `columns`, and then it gets it for every row.
 *
 * Sent as a statement with its data inline (`INSERT ... FORMAT JSONColumns <document>`),
 * which a server takes as the body of an HTTP request and chDB as its query text, because
 * `@clickhouse/client`'s insert encodes JSON only row by row.
 */
export async function insertColumns<T extends object>(
  client: ClickHouseClient,
  table: string,
  rows: readonly T[],
  columns: readonly [DefinedKey<T>, ...Array<DefinedKey<T>>],
): Promise<void> {
  if (rows.length === 0) return;
  const document: Record<string, unknown[]> = {};
  for (const column of columns) {
    const values = new Array<unknown>(rows.length);
    for (let i = 0; i < rows.length; i++) values[i] = rows[i]![column];
    document[column] = values;
  }
  await client.command({
    query: `INSERT INTO ${table} (${columns.join(', ')}) FORMAT JSONColumns\n${JSON.stringify(document)}`,
  });
}

/**
 * ClickHouse error codes worth retrying: the server is busy or merging, not refusing the
 * query. Source: ClickHouse src/Common/ErrorCodes.cpp.
 */
const TRANSIENT_CODES = new Set([
  159, // TIMEOUT_EXCEEDED
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  241, // MEMORY_LIMIT_EXCEEDED
  252, // TOO_MANY_PARTS
  425, // SYSTEM_ERROR
]);

/**
 * Maps a failed ClickHouse call onto playloop's error kinds: unreachable or busy servers are
 * CLICKHOUSE_UNAVAILABLE (retriable); a query the server refuses (bad SQL, bad data) is
 * INTERNAL and not retriable, because sending it again fails the same way.
 */
export function clickhouseFailure(action: string, cause: unknown): PlayloopError {
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause
      ? Number((cause as { code: unknown }).code)
      : Number.NaN;
  const network =
    typeof cause === 'object' &&
    cause !== null &&
    'code' in cause &&
    typeof (cause as { code: unknown }).code === 'string' &&
    /^E[A-Z]+/.test((cause as { code: string }).code);
  const message = cause instanceof Error ? cause.message : String(cause);
  if (network || TRANSIENT_CODES.has(code)) {
    return new PlayloopError('CLICKHOUSE_UNAVAILABLE', `${action}: ${message}`, { cause });
  }
  if (Number.isFinite(code)) {
    return new PlayloopError('INTERNAL', `${action}: ClickHouse refused it (code ${code}): ${message}`, {
      cause,
    });
  }
  // No ClickHouse code and no socket error code: treat as an outage (fetch failures, aborts).
  return new PlayloopError('CLICKHOUSE_UNAVAILABLE', `${action}: ${message}`, { cause });
}
