/**
 * What the ingest integration tests share: the role started on an ephemeral port, record
 * counts from topic offsets, consuming and decoding a topic, and a private Kafka broker
 * that a test may kill and restart without touching the shared stack.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { RoleContext, RunningRole } from '../cli/role.ts';
import type { PlayloopConfig } from '../core/config.ts';
import { PlayloopError } from '../core/errors.ts';
import { silentLogger } from '../core/log.ts';
import { pollUntil, sleep } from '../core/retry.ts';
import { createKafka, withAdmin } from '../infra/kafka.ts';
import { startIngest } from '../producers/ingest/role.ts';
import { kafkaDown, kafkaUp } from '../stack/kafka.ts';
import { isOurs, readRecord } from '../stack/processes.ts';
import { filesOf, loadStackSettings, type StackSettings } from '../stack/settings.ts';
import { uniqueName } from './support/stack.ts';

export interface StartedIngest {
  readonly role: RunningRole;
  /** e.g. http://127.0.0.1:41234 */
  readonly base: string;
}

/** The ingest role on 127.0.0.1 port 0, with `config`'s topics, Kafka and registry. */
export async function startTestIngest(config: PlayloopConfig): Promise<StartedIngest> {
  const ctx: RoleContext = {
    config: { ...config, ingest: { ...config.ingest, host: '127.0.0.1', port: 0 } },
    log: silentLogger,
    clickhouse: () => Promise.reject(new PlayloopError('USAGE', 'ingest needs no ClickHouse')),
    signal: new AbortController().signal,
  };
  const role = await startIngest(ctx);
  const events = role.addresses[0] ?? '';
  return { role, base: events.replace(/\/v1\/events$/, '') };
}

/** How many records a topic holds: the sum over partitions of high minus low watermark. */
export async function countRecords(config: PlayloopConfig, topic: string): Promise<number> {
  const kafka = createKafka(config.kafka);
  return withAdmin(kafka, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  });
}

export interface ConsumedRecord<T> {
  readonly key: string | null;
  readonly value: T;
  readonly partition: number;
}

/**
 * Reads a topic from the start until `expected` records arrived, decoding each value with the
 * registry client itself: an independent decoder, not ingest's own codec.
 */
export async function consumeDecoded<T>(
  config: PlayloopConfig,
  topic: string,
  expected: number,
  timeoutMs = 60_000,
): Promise<Array<ConsumedRecord<T>>> {
  const registry = new SchemaRegistry({ host: config.registry.url });
  const kafka = createKafka(config.kafka);
  // A short fetch wait: disconnect waits for the fetch in flight, 5 s by default.
  const consumer = kafka.consumer({ groupId: uniqueName('ingest-test'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const out: Array<ConsumedRecord<T>> = [];
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        if (message.value === null) return;
        out.push({
          key: message.key?.toString('utf8') ?? null,
          value: (await registry.decode(message.value)) as T,
          partition,
        });
      },
    });
    await pollUntil(async () => (out.length >= expected ? true : undefined), {
      timeoutMs,
      intervalMs: 100,
      what: `${expected} records on ${topic} (have ${out.length})`,
    });
    return out;
  } finally {
    await consumer.disconnect();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface PrivateKafka {
  readonly brokers: string[];
  /** SIGKILL: the broker vanishes mid-request, as in a crash. */
  kill(): Promise<void>;
  /** Starts it again on its stored data and waits until it answers. */
  start(): Promise<void>;
  /** Stops it and deletes its folder. */
  destroy(): Promise<void>;
}

/**
 * A second single-node Kafka from the shared stack's jars, in a temp folder on free ports,
 * owned by one test. The shared broker cannot be stopped (other tests use it), and a TCP
 * proxy in front of it would not cut anything: the broker advertises its own address in
 * metadata and kafkajs would connect there directly.
 */
export async function startPrivateKafka(): Promise<PrivateKafka> {
  const shared = loadStackSettings();
  if (!existsSync(join(shared.kafka.libDir, '.pom.sha256'))) {
    throw new Error(
      `no Kafka jars in ${shared.kafka.libDir}: run \`npm run stack -- up\` once so the private broker can reuse them`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'playloop-ingest-kafka-'));
  mkdirSync(join(dir, 'lib'), { recursive: true });
  symlinkSync(shared.kafka.libDir, join(dir, 'lib', 'kafka'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  const settings: StackSettings = loadStackSettings({
    PLAYLOOP_DATA_DIR: dir,
    PLAYLOOP_STACK_DIR: dir,
    PLAYLOOP_STACK_KAFKA_PORT: String(port),
    PLAYLOOP_STACK_KAFKA_CONTROLLER_PORT: String(controllerPort),
    PLAYLOOP_STACK_KAFKA_HEAP_MB: '256',
    PLAYLOOP_STACK_READY_TIMEOUT_MS: '90000',
  });
  const quiet = (): void => undefined;
  await kafkaUp(settings, quiet);
  const files = filesOf(settings, 'kafka');
  return {
    brokers: [...settings.kafka.brokers],
    async kill() {
      const record = readRecord(files);
      if (record === undefined || !isOurs(record)) return;
      process.kill(-record.pid, 'SIGKILL');
      while (isOurs(record)) await sleep(50);
    },
    async start() {
      await kafkaUp(settings, quiet);
    },
    async destroy() {
      await kafkaDown(settings, quiet);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
