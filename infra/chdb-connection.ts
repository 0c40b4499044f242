/**
 * chDB as a `@clickhouse/client` connection.
 *
 * `@clickhouse/client` 1.23 bundles its own copy of the client-common types, while
 * `chdb/connection` declares against the published `@clickhouse/client-common`. The two
 * describe the same Connection contract (chDB implements it verbatim) but TypeScript sees
 * two declarations, so this one function bridges them; nothing else needs a cast.
 */
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/** `path` is chDB's data directory, or ':memory:' for a throwaway session. */
export function createChdbClient(path: string): ClickHouseClient {
  const connection = createChdbConnection({ path }) as unknown as ClientConnection;
  // Embedded chDB already answers 64-bit integers as JSON numbers and NaN as null.
  return createClient({ connection, clickhouse_settings: { date_time_input_format: 'best_effort' } });
}
