/**
 * playloop's one configuration: environment variables over an optional YAML/JSON file
 * over defaults, validated once at start, frozen, and passed to every role.
 *
 * Errors name the bad key and where it came from (`kafka.brokers (KAFKA_BROKERS): ...`).
 * Topic names, table names and ports live here and nowhere else.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PlayloopError } from './errors.ts';

const port = z.coerce.number().int().min(1).max(65_535);
const host = z.string().min(1);
const csv = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0)
      : v,
  z.array(z.string().min(1)),
);
const httpUrl = z.url({ protocol: /^https?$/ });

export const configSchema = z.strictObject({
  /** Where every role keeps its state: embedded ClickHouse, media cache, local stack. */
  dataDir: z.string().min(1).default('.playloop'),
  kafka: z
    .strictObject({
      brokers: csv
        .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port')).min(1))
        .default(['127.0.0.1:9092']),
      clientId: z.string().min(1).default('playloop'),
      connectionTimeoutMs: z.coerce.number().int().positive().default(3_000),
      requestTimeoutMs: z.coerce.number().int().positive().default(30_000),
    })
    .prefault({}),
  registry: z
    .strictObject({
      /** Confluent-compatible API root; Apicurio serves it at /apis/ccompat/v7. */
      url: httpUrl.default('http://127.0.0.1:8081/apis/ccompat/v7'),
    })
    .prefault({}),
  clickhouse: z
    .strictObject({
      /** A real server when set; embedded chDB under dataDir otherwise. */
      url: httpUrl.optional(),
      database: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an identifier')
        .default('playloop'),
      username: z.string().default('default'),
      password: z.string().default(''),
    })
    .prefault({}),
  topics: z
    .strictObject({
      events: z.string().min(1).default('playback.events'),
      eventsDlq: z.string().min(1).default('playback.events.dlq'),
      sessions: z.string().min(1).default('playback.sessions'),
      allocations: z.string().min(1).default('experiment.allocations'),
      steering: z.string().min(1).default('config.steering'),
      abr: z.string().min(1).default('config.abr'),
      partitions: z.coerce.number().int().min(1).default(4),
    })
    .prefault({}),
  ingest: z
    .strictObject({
      host: host.default('127.0.0.1'),
      port: port.default(7070),
      /** Bearer keys accepted by POST /v1/events. */
      keys: csv
        .pipe(z.array(z.string().min(8, 'ingest keys must be at least 8 characters')).min(1))
        .default(['playloop-local-dev-key']),
    })
    .prefault({}),
  controlPlane: z
    .strictObject({
      host: host.default('127.0.0.1'),
      port: port.default(7071),
    })
    .prefault({}),
  dashboard: z
    .strictObject({
      host: host.default('127.0.0.1'),
      port: port.default(7072),
    })
    .prefault({}),
  oca: z
    .strictObject({
      host: host.default('127.0.0.1'),
      basePort: port.default(7100),
    })
    .prefault({}),
});

export type PlayloopConfig = Readonly<z.output<typeof configSchema>>;

/** Environment variable -> config path. The design fixes the first five names. */
export const envBindings: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['KAFKA_BROKERS', ['kafka', 'brokers']],
  ['SCHEMA_REGISTRY_URL', ['registry', 'url']],
  ['CLICKHOUSE_URL', ['clickhouse', 'url']],
  ['PLAYLOOP_INGEST_KEYS', ['ingest', 'keys']],
  ['PLAYLOOP_DATA_DIR', ['dataDir']],
  ['CLICKHOUSE_DATABASE', ['clickhouse', 'database']],
  ['CLICKHOUSE_USER', ['clickhouse', 'username']],
  ['CLICKHOUSE_PASSWORD', ['clickhouse', 'password']],
  ['PLAYLOOP_INGEST_PORT', ['ingest', 'port']],
  ['PLAYLOOP_CONTROL_PLANE_PORT', ['controlPlane', 'port']],
  ['PLAYLOOP_DASHBOARD_PORT', ['dashboard', 'port']],
  ['PLAYLOOP_OCA_BASE_PORT', ['oca', 'basePort']],
];

type Tree = { [key: string]: unknown };

function setPath(target: Tree, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      const created: Tree = {};
      node[key] = created;
      node = created;
    } else {
      node = next as Tree;
    }
  }
  node[path[path.length - 1] as string] = value;
}

function readConfigFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new PlayloopError('CONFIG_INVALID', `config file ${file} cannot be read`, { cause });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (cause) {
    throw new PlayloopError('CONFIG_INVALID', `config file ${file} is not valid YAML/JSON`, { cause });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new PlayloopError('CONFIG_INVALID', `config file ${file} must hold a mapping at its top level`);
  }
  return parsed as Tree;
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** A YAML or JSON file; PLAYLOOP_CONFIG names one when this is not given. */
  file?: string;
  /** Values set by code (CLI flags, tests); they win over env and file. */
  overrides?: Tree;
}

/** Loads, validates and freezes the config. Throws CONFIG_INVALID naming every bad key. */
export function loadConfig(options: LoadConfigOptions = {}): PlayloopConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env['PLAYLOOP_CONFIG'];
  const raw: Tree = file ? readConfigFile(resolve(file)) : {};
  const origin = new Map<string, string>();
  for (const [name, path] of envBindings) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      setPath(raw, path, value);
      origin.set(path.join('.'), name);
    }
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value)) setPath(raw, [key, inner], innerValue);
    } else {
      setPath(raw, [key], value);
    }
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.') || '(root)';
      const from = originOf(issue.path.map(String), origin) ?? (file ? `file ${file}` : 'default');
      return `${key} (${from}): ${issue.message}`;
    });
    throw new PlayloopError('CONFIG_INVALID', `invalid configuration:\n  ${lines.join('\n  ')}`, {
      details: { issues: lines },
    });
  }
  return deepFreeze(result.data);
}

/** The environment variable behind a key or any key above it (`kafka.brokers.0` -> KAFKA_BROKERS). */
function originOf(path: readonly string[], origin: ReadonlyMap<string, string>): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const name = origin.get(path.slice(0, n).join('.'));
    if (name !== undefined) return name;
  }
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
