/**
 * The Kafka adapter: one way to build a kafkajs client, create topics and map kafkajs
 * failures onto playloop's error kinds. Nothing above this file imports kafkajs' client
 * constructors directly.
 */
import { createRequire } from 'node:module';
import type { Admin, ITopicConfig, Kafka, KafkaConfig, Producer, ProducerConfig } from 'kafkajs';
import { PlayloopError } from '../core/errors.ts';
import { keyedPartitioner } from './kafka-partitioner.ts';
import { applyKafkajsIdleFix } from './kafkajs-idle-fix.ts';
import { installFastRecordDecoder } from './kafkajs-record-decoder.ts';
import { installFastRecordEncoder } from './kafkajs-record-encoder.ts';
import { installLinearSendGrouping } from './kafkajs-send-grouping.ts';

const require = createRequire(import.meta.url);

/**
 * kafkajs itself, loaded on first use rather than imported: its producer captures the
 * send-grouping module when kafkajs loads, so the linear one must be in place first.
 */
function loadKafkajs(): typeof import('kafkajs') {
  installLinearSendGrouping();
  return require('kafkajs') as typeof import('kafkajs');
}

export interface KafkaSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

export function createKafka(settings: KafkaSettings, overrides: Partial<KafkaConfig> = {}): Kafka {
  // Every connected kafkajs client otherwise spins a 1 ms timer per connection (see the fix).
  applyKafkajsIdleFix();
  // Records decoded and encoded without BigInts and a Buffer per field (see the two files):
  // kafkajs' own record codecs were the largest kafkajs cost in the processors' profile.
  installFastRecordDecoder();
  installFastRecordEncoder();
  const { Kafka: KafkaClient, logLevel } = loadKafkajs();
  return new KafkaClient({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    connectionTimeout: settings.connectionTimeoutMs ?? 3_000,
    requestTimeout: settings.requestTimeoutMs ?? 30_000,
    // kafkajs logs every retry at ERROR; playloop reports failures itself, with codes.
    logLevel: logLevel.NOTHING,
    ...overrides,
  });
}

/**
 * Every producer of playloop: kafkajs' with `config`, placing keyed records where Java's and
 * kafkajs' DefaultPartitioner place them, computed without kafkajs' Long arithmetic
 * (kafka-partitioner.ts). kafkajs' own partitioner hashed each key through a BigInt-backed
 * 64-bit emulation and a fresh Buffer: in the processors benchmark's allocation profile the
 * sessionize producer's partitioning was 6% of all bytes the process allocated.
 */
export function createProducer(kafka: Kafka, config: ProducerConfig = {}): Producer {
  return kafka.producer({ createPartitioner: keyedPartitioner, ...config });
}

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** Config topics are compacted: the latest document per scope is what matters. */
  readonly compacted?: boolean;
  readonly config?: Readonly<Record<string, string>>;
}

/** Creates missing topics; existing ones are left as they are. Idempotent. */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing: ITopicConfig[] = specs
    .filter((s) => !existing.has(s.topic))
    .map((s) => {
      const entries: Record<string, string> = { ...(s.config ?? {}) };
      if (s.compacted) entries['cleanup.policy'] = 'compact';
      return {
        topic: s.topic,
        numPartitions: s.partitions,
        replicationFactor: 1,
        configEntries: Object.entries(entries).map(([name, value]) => ({ name, value })),
      };
    });
  if (missing.length === 0) return;
  try {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
  } catch (cause) {
    // Another process may have created them between list and create; that is fine.
    const still = new Set(await admin.listTopics());
    const absent = missing.filter((t) => !still.has(t.topic)).map((t) => t.topic);
    if (absent.length > 0) {
      throw new PlayloopError('KAFKA_UNAVAILABLE', `could not create topics ${absent.join(', ')}`, { cause });
    }
  }
}

/** Connects an admin client, runs `fn`, disconnects. */
export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (cause) {
    throw new PlayloopError('KAFKA_UNAVAILABLE', 'cannot connect to Kafka', { cause });
  }
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** One readiness probe: the broker answers metadata requests. Returns the broker list. */
export async function probeKafka(brokers: readonly string[]): Promise<string[]> {
  const kafka = createKafka(
    { brokers, clientId: 'playloop-probe', connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000 },
    { retry: { retries: 0 } },
  );
  return withAdmin(kafka, async (admin) => {
    const cluster = await admin.describeCluster();
    await admin.listTopics();
    return cluster.brokers.map((b) => `${b.host}:${b.port}`);
  });
}
