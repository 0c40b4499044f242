/**
 * Where the local stack lives and what it runs. Everything it writes (jars, data, logs,
 * PIDs) stays under one git-ignored folder: PLAYLOOP_STACK_DIR, or <PLAYLOOP_DATA_DIR>/stack.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { PlayloopError } from '../core/errors.ts';

const port = z.coerce.number().int().min(1).max(65_535);

const stackEnvSchema = z.object({
  PLAYLOOP_DATA_DIR: z.string().min(1).default('.playloop'),
  PLAYLOOP_STACK_DIR: z.string().min(1).optional(),
  PLAYLOOP_STACK_KAFKA_PORT: port.default(9092),
  PLAYLOOP_STACK_KAFKA_CONTROLLER_PORT: port.default(9093),
  PLAYLOOP_STACK_REGISTRY_PORT: port.default(8081),
  PLAYLOOP_STACK_REGISTRY_MANAGEMENT_PORT: port.default(9000),
  PLAYLOOP_STACK_KAFKA_HEAP_MB: z.coerce.number().int().min(128).default(768),
  PLAYLOOP_STACK_REGISTRY_HEAP_MB: z.coerce.number().int().min(128).default(512),
  PLAYLOOP_APICURIO_VERSION: z.string().default('3.3.3'),
  /** A JDK 21+ for Apicurio 3.2 and later; found under /usr/lib/jvm when not given. */
  PLAYLOOP_REGISTRY_JAVA_HOME: z.string().optional(),
  PLAYLOOP_STACK_READY_TIMEOUT_MS: z.coerce.number().int().positive().default(90_000),
  /** Set to use an external service instead of starting one. */
  KAFKA_BROKERS: z.string().optional(),
  SCHEMA_REGISTRY_URL: z.string().optional(),
  CLICKHOUSE_URL: z.string().optional(),
});

export interface StackSettings {
  readonly projectDir: string;
  readonly stackDir: string;
  readonly dataDir: string;
  readonly kafka: {
    readonly external: boolean;
    readonly brokers: readonly string[];
    readonly port: number;
    readonly controllerPort: number;
    readonly heapMb: number;
    readonly libDir: string;
    readonly dataDir: string;
  };
  readonly registry: {
    readonly external: boolean;
    readonly url: string;
    readonly port: number;
    readonly managementPort: number;
    readonly heapMb: number;
    readonly version: string;
    readonly javaHome: string | undefined;
    readonly installDir: string;
  };
  readonly clickhouse: { readonly url: string | undefined };
  readonly readyTimeoutMs: number;
}

export function loadStackSettings(env: NodeJS.ProcessEnv = process.env): StackSettings {
  const parsed = stackEnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new PlayloopError('CONFIG_INVALID', `invalid stack settings:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const dataDir = resolve(e.PLAYLOOP_DATA_DIR);
  const stackDir = resolve(e.PLAYLOOP_STACK_DIR ?? join(dataDir, 'stack'));
  const kafkaExternal = e.KAFKA_BROKERS !== undefined && e.KAFKA_BROKERS !== '';
  const registryExternal = e.SCHEMA_REGISTRY_URL !== undefined && e.SCHEMA_REGISTRY_URL !== '';
  return Object.freeze({
    projectDir,
    stackDir,
    dataDir,
    kafka: Object.freeze({
      external: kafkaExternal,
      brokers: kafkaExternal
        ? (e.KAFKA_BROKERS ?? '').split(',').map((s) => s.trim())
        : [`127.0.0.1:${e.PLAYLOOP_STACK_KAFKA_PORT}`],
      port: e.PLAYLOOP_STACK_KAFKA_PORT,
      controllerPort: e.PLAYLOOP_STACK_KAFKA_CONTROLLER_PORT,
      heapMb: e.PLAYLOOP_STACK_KAFKA_HEAP_MB,
      libDir: join(stackDir, 'lib', 'kafka'),
      dataDir: join(stackDir, 'kafka'),
    }),
    registry: Object.freeze({
      external: registryExternal,
      url: registryExternal
        ? (e.SCHEMA_REGISTRY_URL ?? '')
        : `http://127.0.0.1:${e.PLAYLOOP_STACK_REGISTRY_PORT}/apis/ccompat/v7`,
      port: e.PLAYLOOP_STACK_REGISTRY_PORT,
      managementPort: e.PLAYLOOP_STACK_REGISTRY_MANAGEMENT_PORT,
      heapMb: e.PLAYLOOP_STACK_REGISTRY_HEAP_MB,
      version: e.PLAYLOOP_APICURIO_VERSION,
      javaHome: e.PLAYLOOP_REGISTRY_JAVA_HOME,
      installDir: join(stackDir, `apicurio-${e.PLAYLOOP_APICURIO_VERSION}`),
    }),
    clickhouse: Object.freeze({ url: e.CLICKHOUSE_URL === '' ? undefined : e.CLICKHOUSE_URL }),
    readyTimeoutMs: e.PLAYLOOP_STACK_READY_TIMEOUT_MS,
  });
}

export function filesOf(settings: StackSettings, service: string): { pidFile: string; logFile: string } {
  return {
    pidFile: join(settings.stackDir, 'run', `${service}.pid.json`),
    logFile: join(settings.stackDir, 'logs', `${service}.log`),
  };
}

/** Marks a process as this stack's own, so `down` never signals anything else. */
export function markerOf(settings: StackSettings, service: string): string {
  return `-Dplayloop.stack=${service}@${settings.stackDir}`;
}
