/**
 * Compacted config topics on the real broker: a reader catches up with what was published
 * before it started, follows new versions, ignores stale ones, and serves its snapshot (the
 * last good config) when Kafka cannot be reached.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/log.ts';
import { pollUntil } from '../core/retry.ts';
import { ConfigPublisher, ConfigTable } from '../infra/config-topic.ts';
import { createKafka, ensureTopics, withAdmin } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import { type SteeringConfig, schema as steeringSchema } from '../schemas/generated/steering-config.ts';
import { deleteTopics, testConfig } from './support/stack.ts';

const config = testConfig('cfgtopic');
const topic = config.topics.steering;
const dir = mkdtempSync(join(tmpdir(), 'playloop-cfg-'));

function doc(scope: string, version: number, priority: string[]): SteeringConfig {
  return {
    scope,
    version,
    generatedAt: 1_700_000_000_000 + version,
    ttlSec: 10,
    ocas: priority.map((ocaId, i) => ({
      ocaId,
      state: 'healthy',
      score: 1 - i / 10,
      sessions: 100,
      rebufferRatio: 0.01,
      vsfRate: null,
      startupP90Ms: 900,
      throughputKbps: 8_000,
      since: 1_700_000_000_000,
    })),
    pathwayPriority: priority,
    evidence: { windowStart: 1, windowEnd: 2, reason: `v${version}`, experimentKey: null },
  };
}

afterAll(async () => {
  await deleteTopics(config, [topic]);
});

describe('ConfigTable / ConfigPublisher', () => {
  it('catches up, follows newer versions, ignores stale ones, and falls back to its snapshot', async () => {
    const kafka = createKafka(config.kafka);
    await withAdmin(kafka, (admin) => ensureTopics(admin, [{ topic, partitions: 1, compacted: true }]));
    const codec = await AvroCodec.register<SteeringConfig>(
      createRegistry(config.registry.url),
      topic,
      steeringSchema,
    );
    const publisher = new ConfigPublisher(kafka, topic, codec);
    await publisher.publish(doc('global', 1, ['oca-a', 'oca-b']));
    await publisher.publish(doc('isp:AS1', 1, ['oca-b', 'oca-a']));
    await publisher.publish(doc('global', 2, ['oca-b', 'oca-a']));

    const snapshot = join(dir, 'steering.json');
    const table = new ConfigTable(kafka, topic, codec, snapshot, silentLogger);
    await table.start();
    // Caught up at start: what was published before is there without waiting.
    expect(table.get('global')?.version).toBe(2);
    expect(table.get('global')?.pathwayPriority).toEqual(['oca-b', 'oca-a']);
    expect(table.get('isp:AS1')?.version).toBe(1);
    expect(table.health().source).toBe('kafka');

    const seen: number[] = [];
    table.onChange((d) => seen.push(d.version));
    await publisher.publish(doc('global', 1, ['oca-a'])); // stale: must not win
    await publisher.publish(doc('global', 3, ['oca-a', 'oca-b']));
    await pollUntil(async () => (table.get('global')?.version === 3 ? true : undefined), {
      timeoutMs: 15_000,
      what: 'version 3',
    });
    expect(seen).toEqual([3]);
    await table.stop();
    await publisher.stop();

    // Kafka unreachable: the reader serves the last good config from its snapshot.
    const unreachable = createKafka(
      { brokers: ['127.0.0.1:1'], clientId: 'cfg-test', connectionTimeoutMs: 200 },
      { retry: { retries: 0 } },
    );
    const offline = new ConfigTable(unreachable, topic, codec, snapshot, silentLogger);
    await offline.start({ catchUpTimeoutMs: 1_000 });
    expect(offline.health().source).toBe('snapshot');
    expect(offline.get('global')?.version).toBe(3);
    expect(offline.get('global')?.pathwayPriority).toEqual(['oca-a', 'oca-b']);
    await offline.stop();
  });
});
