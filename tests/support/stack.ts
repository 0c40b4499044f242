/**
 * What every integration test needs: the real local stack's addresses (or the external
 * ones named by the environment), a topic and a database of its own, and clean-up.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type PlayloopConfig } from '../../core/config.ts';
import { createKafka, ensureTopics, withAdmin } from '../../infra/kafka.ts';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/**
 * A config whose topics and ClickHouse database are this test's own, so tests never see
 * each other's data; Kafka, registry and ClickHouse addresses come from the environment.
 */
export function testConfig(
  prefix = 't',
  extra: Record<string, Record<string, unknown>> = {},
): PlayloopConfig {
  const id = uniqueName(prefix);
  return loadConfig({
    overrides: {
      ...extra,
      processors: { groupPrefix: id, ...(extra['processors'] ?? {}) },
      dataDir: process.env['PLAYLOOP_DATA_DIR'] ?? mkdtempSync(join(tmpdir(), `playloop-${prefix}-`)),
      topics: {
        events: `${id}.playback.events`,
        eventsDlq: `${id}.playback.events.dlq`,
        sessions: `${id}.playback.sessions`,
        allocations: `${id}.experiment.allocations`,
        steering: `${id}.config.steering`,
        abr: `${id}.config.abr`,
        partitions: 2,
      },
      clickhouse: { database: id },
    },
  });
}

export async function createTopics(
  config: PlayloopConfig,
  topics: readonly string[],
  partitions = 1,
): Promise<void> {
  const kafka = createKafka(config.kafka);
  await withAdmin(kafka, (admin) =>
    ensureTopics(
      admin,
      topics.map((topic) => ({ topic, partitions })),
    ),
  );
}

export async function deleteTopics(config: PlayloopConfig, topics: readonly string[]): Promise<void> {
  const kafka = createKafka(config.kafka);
  await withAdmin(kafka, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  });
}

/**
 * testConfig with the steering model on 10 s windows, ticking every 100 ms, judging a window as
 * soon as it closes (no settle) and catching up at most 5: what the steering tests drive.
 */
export function steeringTestConfig(label: string): PlayloopConfig {
  const base = testConfig(label);
  return {
    ...base,
    feedback: {
      ...base.feedback,
      steering: {
        ...base.feedback.steering,
        intervalMs: 100,
        windowSec: 10,
        settleMs: 0,
        maxCatchUpWindows: 5,
      },
    },
  };
}
