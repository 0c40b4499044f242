/**
 * Runs an expanded panel query and returns typed columns, the way a Grafana data frame
 * carries them: times as epoch milliseconds, numbers as numbers (NaN and NULL as null),
 * text as strings.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { PlayloopError } from '../../core/errors.ts';
import { clickhouseFailure } from '../../infra/clickhouse.ts';

export type ColumnKind = 'time' | 'number' | 'string';
export type Cell = number | string | null;

export interface Column {
  readonly name: string;
  /** The ClickHouse type, e.g. `DateTime('UTC')`, `Nullable(Float64)`. */
  readonly type: string;
  readonly kind: ColumnKind;
}

export interface QueryResult {
  readonly columns: readonly Column[];
  readonly rows: readonly (readonly Cell[])[];
}

export function columnKind(type: string): ColumnKind {
  const inner = type.replace(/^(Nullable|LowCardinality)\((.*)\)$/, '$2').replace(/^Nullable\((.*)\)$/, '$1');
  if (/^DateTime(64)?\b/.test(inner) || /^Date(32)?$/.test(inner)) return 'time';
  if (/^(U?Int\d+|Float\d+|Decimal|Bool)/.test(inner)) return 'number';
  return 'string';
}

function convert(kind: ColumnKind, type: string, value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (kind === 'time') {
    // date_time_output_format = 'unix_timestamp': DateTime as seconds, DateTime64 as "s.fff".
    if (/^(Nullable\()?Date(32)?\)?$/.test(type)) return Date.parse(`${String(value)}T00:00:00Z`);
    return Math.round(Number(value) * 1000);
  }
  if (kind === 'number') {
    if (typeof value === 'boolean') return value ? 1 : 0;
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export async function runQuery(client: ClickHouseClient, sql: string): Promise<QueryResult> {
  let body: { meta?: { name: string; type: string }[]; data?: unknown[][] };
  try {
    const result = await client.query({
      query: sql,
      format: 'JSONCompact',
      clickhouse_settings: { date_time_output_format: 'unix_timestamp' },
    });
    // JSONCompact answers {meta: [{name, type}], data: [[...]]}.
    body = await result.json<unknown[]>();
  } catch (cause) {
    throw clickhouseFailure('panel query', cause);
  }
  if (!Array.isArray(body.meta) || !Array.isArray(body.data)) {
    throw new PlayloopError('INTERNAL', 'panel query: ClickHouse answered without meta or data');
  }
  const { meta, data } = body;
  const columns = meta.map((m) => ({ name: m.name, type: m.type, kind: columnKind(m.type) }));
  const rows = data.map((row) => columns.map((c, i) => convert(c.kind, c.type, row[i])));
  return { columns, rows };
}
