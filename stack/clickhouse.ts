/**
 * ClickHouse in the stack: embedded chDB needs no process of its own (it runs inside each
 * playloop process), so `up` only checks that chDB loads here; a real server named by
 * CLICKHOUSE_URL is pinged.
 */

import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { createChdbClient } from '../infra/chdb-connection.ts';
import type { StackSettings } from './settings.ts';

export interface ClickHouseStatus {
  readonly state: 'healthy' | 'unhealthy' | 'external';
  readonly address: string;
  readonly detail: string;
}

export async function clickhouseStatus(settings: StackSettings): Promise<ClickHouseStatus> {
  if (settings.clickhouse.url) {
    const client = createClient({ url: settings.clickhouse.url });
    try {
      const rows = await (
        await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
      ).json<{
        v: string;
      }>();
      return { state: 'healthy', address: settings.clickhouse.url, detail: `server ${rows[0]?.v ?? '?'}` };
    } catch (err) {
      return { state: 'unhealthy', address: settings.clickhouse.url, detail: String(err) };
    } finally {
      await client.close();
    }
  }
  const dataDir = join(settings.dataDir, 'clickhouse');
  // Probe with an in-memory session: the data directory may be bound by a running playloop.
  const client = createChdbClient(':memory:');
  try {
    const rows = await (await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{
      v: string;
    }>();
    return {
      state: 'healthy',
      address: `embedded:${dataDir}`,
      detail: `chDB ${rows[0]?.v ?? '?'}, runs inside each playloop process`,
    };
  } catch (err) {
    return {
      state: 'unhealthy',
      address: `embedded:${dataDir}`,
      detail: `chDB does not load: ${String(err)}`,
    };
  } finally {
    await client.close();
  }
}
