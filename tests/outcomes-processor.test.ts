/**
 * The outcomes processor on the real broker, registry and ClickHouse. Sessions are produced
 * and processed first, their allocations only afterwards (a session arriving before its
 * allocation must still be joined); the experiment tables are checked against values worked
 * out by hand; then both topics are replayed from the beginning by a fresh consumer group
 * (what a crash before any commit looks like) and no row may change.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { PlayloopConfig } from '../core/config.ts';
import { pollUntil } from '../core/retry.ts';
import { type ClickHouse, openAndMigrate, queryRows } from '../infra/clickhouse.ts';
import { createKafka } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import { outcomesDlqOf, startOutcomesProcessor } from '../processors/outcomes/start.ts';
import {
  schema as allocationSchema,
  type ExperimentAllocation,
} from '../schemas/generated/experiment-allocation.ts';
import { type SessionSummary, schema as sessionSchema } from '../schemas/generated/playback-session.ts';
import { sessionSummary } from './support/session-summary.ts';
import { createTopics, deleteTopics, testConfig, uniqueName } from './support/stack.ts';

const config = testConfig('outcomes');
const allocationsTopic = config.topics.allocations;
const sessionsTopic = config.topics.sessions;
const topics = [allocationsTopic, sessionsTopic];
const dlqs = topics.map(outcomesDlqOf);
const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);
const MIN = 60_000;
const DAY = 86_400_000;

let ch: ClickHouse;

afterAll(async () => {
  await ch?.close();
  await deleteTopics(config, [...topics, ...dlqs]);
});

/** The shared fixture, as this test's sessions differ from it: 20 min long, no cells. */
function session(
  id: string,
  viewer: string,
  start: number,
  over: Partial<SessionSummary> = {},
): SessionSummary {
  return sessionSummary(0, start, {
    summaryId: `${id}:0`,
    sessionId: id,
    viewerId: viewer,
    titleId: 'title-001',
    startTime: start,
    endTime: start + 20 * MIN,
    durationMs: 20 * MIN,
    playMs: 600_000,
    switchesUp: 1,
    isp: 'AS3320',
    experiments: [],
    score: 80,
    sourceOffsetFirst: 0,
    sourceOffsetLast: 10,
    ...over,
  });
}

const ebvsView: Partial<SessionSummary> = {
  startupOutcome: 'ebvs',
  ebvs: true,
  startupMs: null,
  playMs: 0,
  avgBitrateKbps: null,
  switchesUp: 0,
  score: null,
};

// Viewer v1: s1a in the pre-period (2 days before), s1b and s1c exposed (s1c an EBVS).
// Viewer v2: s2d pre-period; s2c 10 min BEFORE the allocation but carrying the experiment;
// s2b 30 s before (within the 60 s grace); s2a after. Viewer v3: allocated, never played.
const SESSIONS: SessionSummary[] = [
  session('s1a', 'v1', T0 - 2 * DAY, { startupMs: 2_000, stallMs: 6_000, stallCount: 1 }),
  session('s1b', 'v1', T0 + 10 * MIN, { startupMs: 1_000, stallMs: 12_000, stallCount: 2 }),
  session('s1c', 'v1', T0 + 60 * MIN, { ...ebvsView, experiments: [{ key: 'exp-viewer', cell: 'control' }] }),
  session('s2a', 'v2', T0 + 5 * MIN, { startupMs: 3_000, avgBitrateKbps: 2_000 }),
  session('s2b', 'v2', T0 - 30_000, { startupMs: 1_500 }),
  session('s2c', 'v2', T0 - 10 * MIN, {
    startupMs: 500,
    experiments: [{ key: 'exp-viewer', cell: 'lighter' }],
  }),
  session('s2d', 'v2', T0 - 3 * DAY, { startupMs: 4_000 }),
];

function allocation(over: Partial<ExperimentAllocation>): ExperimentAllocation {
  return {
    experimentKey: 'exp-viewer',
    cell: 'control',
    control: true,
    unitType: 'viewer',
    unitId: 'v1',
    viewerId: 'v1',
    sessionId: null,
    bucket: 100,
    namespace: 'abr',
    hashVersion: 1,
    seed: 'exp-viewer-1',
    definitionDigest: 'aaaaaaaaaaaaaaaa',
    allocatedAt: T0,
    source: 'control-plane',
    deviceClass: 'tv',
    country: 'DE',
    isp: 'AS3320',
    ...over,
  };
}

const ALLOCATIONS: ExperimentAllocation[] = [
  allocation({ sessionId: 's1b', allocatedAt: T0 + 60 * MIN }),
  allocation({ sessionId: 's1b' }),
  allocation({ unitId: 'v2', viewerId: 'v2', cell: 'lighter', control: false, bucket: 7_000 }),
  allocation({ unitId: 'v3', viewerId: 'v3', allocatedAt: T0 + DAY }),
  allocation({
    experimentKey: 'exp-session',
    unitType: 'session',
    unitId: 's1b',
    sessionId: 's1b',
    cell: 'b',
    control: false,
    bucket: 9_000,
    allocatedAt: T0 + 10 * MIN - 1_000,
  }),
];

async function produce(
  topic: string,
  messages: ReadonlyArray<{ key: string; value: Buffer }>,
): Promise<void> {
  const producer = createKafka(config.kafka).producer({ idempotent: true });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [...messages] });
  await producer.disconnect();
}

async function highWatermarks(): Promise<Array<{ topic: string; partition: number; high: string }>> {
  const admin = createKafka(config.kafka).admin();
  await admin.connect();
  const out: Array<{ topic: string; partition: number; high: string }> = [];
  for (const topic of [...topics, ...dlqs]) {
    for (const p of await admin.fetchTopicOffsets(topic))
      out.push({ topic, partition: p.partition, high: p.high });
  }
  await admin.disconnect();
  return out;
}

/** Runs the processor on its group until the group has committed every record of both topics, then stops it. */
async function runUntilCaughtUp(cfg: PlayloopConfig): Promise<void> {
  const marks = (await highWatermarks()).filter((m) => topics.includes(m.topic));
  const running = await startOutcomesProcessor(
    cfg,
    createKafka(cfg.kafka),
    createRegistry(cfg.registry.url),
    ch,
  );
  const admin = createKafka(cfg.kafka).admin();
  await admin.connect();
  try {
    await pollUntil(
      async () => {
        if (running.runner.failure !== undefined) throw running.runner.failure;
        const committed = await admin.fetchOffsets({
          groupId: `${cfg.processors.groupPrefix}.outcomes`,
          topics,
        });
        const offsetOf = (topic: string, partition: number): string | undefined =>
          committed.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === partition)?.offset;
        // A partition with no records has nothing to commit (-1).
        return marks.every((m) => m.high === '0' || offsetOf(m.topic, m.partition) === m.high)
          ? true
          : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: 'every record processed, recomputed and committed' },
    );
  } finally {
    await admin.disconnect();
    await running.stop();
  }
  expect(running.runner.failure).toBeUndefined();
}

async function dump(table: string, order: string): Promise<Array<Record<string, unknown>>> {
  return queryRows(
    ch.client,
    `SELECT * EXCEPT computed_at FROM ${ch.database}.${table} FINAL ORDER BY ${order}`,
  );
}

async function snapshot(): Promise<Record<string, Array<Record<string, unknown>>>> {
  return {
    allocations: await dump('experiment_allocations', 'experiment_key, unit_id'),
    sessions: await dump('experiment_sessions', 'experiment_key, unit_id, summary_id'),
    units: await dump('experiment_units', 'experiment_key, unit_id'),
    events: await dump('experiment_allocation_events', 'viewer_id, experiment_key, unit_id, allocated_at'),
    viewerSessions: await dump('experiment_viewer_sessions', 'viewer_id, summary_id'),
  };
}

describe('outcomes processor (real Kafka, registry, ClickHouse)', () => {
  it('joins sessions to cells whatever the arrival order, exactly, and a replay changes nothing', async () => {
    ({ ch } = await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir }));
    await createTopics(config, topics, 2);
    await createTopics(config, dlqs, 1);
    const registry = createRegistry(config.registry.url);
    const sessionCodec = await AvroCodec.register<SessionSummary>(registry, sessionsTopic, sessionSchema);
    const allocationCodec = await AvroCodec.register<ExperimentAllocation>(
      registry,
      allocationsTopic,
      allocationSchema,
    );

    // Phase 1: sessions only, plus one undecodable record.
    await produce(sessionsTopic, [
      ...SESSIONS.map((s) => ({ key: s.sessionId, value: sessionCodec.encode(s) })),
      { key: 'poison', value: Buffer.from('not avro at all') },
    ]);
    await runUntilCaughtUp(config);
    expect(await queryRows(ch.client, `SELECT count() AS n FROM ${ch.database}.experiment_units`)).toEqual([
      { n: 0 },
    ]);

    // Phase 2, same consumer group: the allocations, and one whose unit id is not its viewer.
    await produce(allocationsTopic, [
      ...ALLOCATIONS.map((a) => ({ key: a.unitId, value: allocationCodec.encode(a) })),
      { key: 'v9', value: allocationCodec.encode(allocation({ unitId: 'v9', viewerId: 'v8' })) },
    ]);
    await runUntilCaughtUp(config);

    const allocations = await queryRows<Record<string, unknown>>(
      ch.client,
      `SELECT experiment_key, unit_id, unit_type, viewer_id, cell, toUnixTimestamp64Milli(first_allocated_at) AS first,
              toUnixTimestamp64Milli(last_allocated_at) AS last, allocations, cells_seen, bucket, device_class
       FROM ${ch.database}.experiment_allocations FINAL ORDER BY experiment_key, unit_id`,
    );
    expect(allocations).toEqual([
      {
        experiment_key: 'exp-session',
        unit_id: 's1b',
        unit_type: 'session',
        viewer_id: 'v1',
        cell: 'b',
        first: T0 + 10 * MIN - 1_000,
        last: T0 + 10 * MIN - 1_000,
        allocations: 1,
        cells_seen: 1,
        bucket: 9_000,
        device_class: 'tv',
      },
      {
        experiment_key: 'exp-viewer',
        unit_id: 'v1',
        unit_type: 'viewer',
        viewer_id: 'v1',
        cell: 'control',
        first: T0,
        last: T0 + 60 * MIN,
        allocations: 2,
        cells_seen: 1,
        bucket: 100,
        device_class: 'tv',
      },
      {
        experiment_key: 'exp-viewer',
        unit_id: 'v2',
        unit_type: 'viewer',
        viewer_id: 'v2',
        cell: 'lighter',
        first: T0,
        last: T0,
        allocations: 1,
        cells_seen: 1,
        bucket: 7_000,
        device_class: 'tv',
      },
      {
        experiment_key: 'exp-viewer',
        unit_id: 'v3',
        unit_type: 'viewer',
        viewer_id: 'v3',
        cell: 'control',
        first: T0 + DAY,
        last: T0 + DAY,
        allocations: 1,
        cells_seen: 1,
        bucket: 100,
        device_class: 'tv',
      },
    ]);

    const exposed = await queryRows<{
      experiment_key: string;
      unit_id: string;
      cell: string;
      summaries: string[];
    }>(
      ch.client,
      `SELECT experiment_key, unit_id, any(cell) AS cell, arraySort(groupArray(summary_id)) AS summaries
       FROM ${ch.database}.experiment_sessions FINAL GROUP BY experiment_key, unit_id ORDER BY experiment_key, unit_id`,
    );
    expect(exposed).toEqual([
      { experiment_key: 'exp-session', unit_id: 's1b', cell: 'b', summaries: ['s1b:0'] },
      { experiment_key: 'exp-viewer', unit_id: 'v1', cell: 'control', summaries: ['s1b:0', 's1c:0'] },
      {
        experiment_key: 'exp-viewer',
        unit_id: 'v2',
        cell: 'lighter',
        summaries: ['s2a:0', 's2b:0', 's2c:0'],
      },
    ]);

    const units = await queryRows<Record<string, unknown>>(
      ch.client,
      `SELECT experiment_key, unit_id, cell, sessions, attempts, plays, ebvs, startups, startup_ms, play_ms, stall_ms,
              stall_count, bitrate_kbps_ms, bitrate_play_ms, switches, score_sum, scored,
              pre_sessions, pre_startups, pre_startup_ms, pre_stall_ms
       FROM ${ch.database}.experiment_units FINAL ORDER BY experiment_key, unit_id`,
    );
    expect(units).toEqual([
      // s1b; pre-period: s1a (s1c came after the allocation).
      {
        experiment_key: 'exp-session',
        unit_id: 's1b',
        cell: 'b',
        sessions: 1,
        attempts: 1,
        plays: 1,
        ebvs: 0,
        startups: 1,
        startup_ms: 1_000,
        play_ms: 600_000,
        stall_ms: 12_000,
        stall_count: 2,
        bitrate_kbps_ms: 3_000 * 600_000,
        bitrate_play_ms: 600_000,
        switches: 1,
        score_sum: 80,
        scored: 1,
        pre_sessions: 1,
        pre_startups: 1,
        pre_startup_ms: 2_000,
        pre_stall_ms: 6_000,
      },
      // s1b and s1c (an EBVS: no startup, no play, no score); pre-period s1a.
      {
        experiment_key: 'exp-viewer',
        unit_id: 'v1',
        cell: 'control',
        sessions: 2,
        attempts: 2,
        plays: 1,
        ebvs: 1,
        startups: 1,
        startup_ms: 1_000,
        play_ms: 600_000,
        stall_ms: 12_000,
        stall_count: 2,
        bitrate_kbps_ms: 3_000 * 600_000,
        bitrate_play_ms: 600_000,
        switches: 1,
        score_sum: 80,
        scored: 1,
        pre_sessions: 1,
        pre_startups: 1,
        pre_startup_ms: 2_000,
        pre_stall_ms: 6_000,
      },
      // s2a, s2b, s2c; pre-period s2d.
      {
        experiment_key: 'exp-viewer',
        unit_id: 'v2',
        cell: 'lighter',
        sessions: 3,
        attempts: 3,
        plays: 3,
        ebvs: 0,
        startups: 3,
        startup_ms: 3_000 + 1_500 + 500,
        play_ms: 1_800_000,
        stall_ms: 0,
        stall_count: 0,
        bitrate_kbps_ms: (2_000 + 3_000 + 3_000) * 600_000,
        bitrate_play_ms: 1_800_000,
        switches: 3,
        score_sum: 240,
        scored: 3,
        pre_sessions: 1,
        pre_startups: 1,
        pre_startup_ms: 4_000,
        pre_stall_ms: 0,
      },
      {
        experiment_key: 'exp-viewer',
        unit_id: 'v3',
        cell: 'control',
        sessions: 0,
        attempts: 0,
        plays: 0,
        ebvs: 0,
        startups: 0,
        startup_ms: 0,
        play_ms: 0,
        stall_ms: 0,
        stall_count: 0,
        bitrate_kbps_ms: 0,
        bitrate_play_ms: 0,
        switches: 0,
        score_sum: 0,
        scored: 0,
        pre_sessions: 0,
        pre_startups: 0,
        pre_startup_ms: 0,
        pre_stall_ms: 0,
      },
    ]);

    // Bad data went to the dead-letter topics, not into the numbers.
    const marks = await highWatermarks();
    const dlqCount = (topic: string): number =>
      marks.filter((m) => m.topic === topic).reduce((s, m) => s + Number(m.high), 0);
    expect(dlqCount(outcomesDlqOf(sessionsTopic))).toBe(1);
    expect(dlqCount(outcomesDlqOf(allocationsTopic))).toBe(1);

    // Replay both topics from the beginning on a fresh group: every row stays as it was.
    const before = await snapshot();
    await runUntilCaughtUp({
      ...config,
      processors: { ...config.processors, groupPrefix: uniqueName('replay') },
    });
    expect(await snapshot()).toEqual(before);
    // Each input counted once (FINAL), the replay's second copies included.
    expect(before.viewerSessions).toHaveLength(SESSIONS.length);
    expect(before.events).toHaveLength(ALLOCATIONS.length);
  });
});
