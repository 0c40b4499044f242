/**
 * The qoe processor on the real broker, registry and ClickHouse: session summaries in,
 * session rows and window aggregates out, with numbers computed by hand; then the whole
 * topic is replayed from the beginning by a fresh consumer (what a crash before any commit
 * looks like) and every number must stay the same.
 */
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/log.ts';
import { pollUntil } from '../core/retry.ts';
import { type ClickHouse, openAndMigrate, queryRows } from '../infra/clickhouse.ts';
import { createKafka } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import { QoeProcessor } from '../processors/qoe/processor.ts';
import { DeadLetterWriter } from '../processors/runtime/dead-letters.ts';
import { ProcessorRunner } from '../processors/runtime/partition-consumer.ts';
import { type DeadLetter, schema as deadLetterSchema } from '../schemas/generated/dead-letter.ts';
import { type SessionSummary, schema as sessionSchema } from '../schemas/generated/playback-session.ts';
import { sessionSummary } from './support/session-summary.ts';
import { createTopics, deleteTopics, testConfig, uniqueName } from './support/stack.ts';

const config = testConfig('qoeproc');
const topic = config.topics.sessions;
const dlq = `${topic}.dlq`;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0); // a 10 s and 60 s window boundary

const summary = (i: number, over: Partial<SessionSummary>): SessionSummary => sessionSummary(i, T0, over);

// Window 12:00:00-12:00:10 on oca-a: s1 (1000 ms startup, 50 s play, 3000 kbps),
// s2 (3000 ms startup, 30 s play + 10 s stall in 2 stalls, 1000 kbps), s3 (EBVS).
// oca-b in the same window: s4 (VSF). s5 ends at 12:00:15, the next 10 s window.
const sessions: SessionSummary[] = [
  summary(1, {}),
  summary(2, {
    startupMs: 3_000,
    playMs: 30_000,
    stallMs: 10_000,
    stallCount: 2,
    avgBitrateKbps: 1_000,
    switchesDown: 1,
    score: 50,
    experiments: [{ key: 'exp1', cell: 'treatment' }],
  }),
  summary(3, {
    startupOutcome: 'ebvs',
    ebvs: true,
    startupMs: null,
    playMs: 0,
    avgBitrateKbps: null,
    score: null,
    experiments: [{ key: 'exp1', cell: 'treatment' }],
  }),
  summary(4, {
    ocaId: 'oca-b',
    startupOutcome: 'vsf',
    vsf: true,
    startupMs: null,
    playMs: 0,
    avgBitrateKbps: null,
    score: 0,
  }),
  summary(5, { endTime: T0 + 15_000, startupMs: 2_000 }),
];

let ch: ClickHouse;

afterAll(async () => {
  await ch?.close();
  await deleteTopics(config, [topic, dlq]);
});

async function runOnce(groupId: string, expectedMessages: number): Promise<void> {
  const kafka = createKafka(config.kafka);
  const registry = createRegistry(config.registry.url);
  const codec = await AvroCodec.register<SessionSummary>(registry, topic, sessionSchema);
  const dlqCodec = await AvroCodec.register<DeadLetter>(registry, dlq, deadLetterSchema);
  const deadLetters = new DeadLetterWriter(kafka, new Map([[dlq, dlqCodec]]), (t) => `${t}.dlq`);
  const processor = new QoeProcessor({
    client: ch.client,
    database: ch.database,
    codec,
    deadLetters,
    windowSizesSec: [10, 60],
    maxBufferedRows: 1_000,
    metrics: new Registry(),
  });
  const runner = new ProcessorRunner(kafka, processor, {
    groupId,
    topics: [topic],
    tickIntervalMs: 200,
    metrics: new Registry(),
    log: silentLogger,
  });
  await runner.start();
  await pollUntil(
    async () =>
      processor.committableOffset({ topic, partition: 0 }) === String(expectedMessages) ? true : undefined,
    {
      timeoutMs: 30_000,
      what: 'all records processed',
    },
  );
  await runner.stop();
  await deadLetters.stop();
  expect(runner.failure).toBeUndefined();
}

interface WindowRow {
  oca_id: string;
  sessions: number;
  attempts: number;
  plays: number;
  ebvs: number;
  vsf: number;
  startup_mean: number | null;
  rebuffer_ratio: number | null;
  stalls_per_hour: number | null;
  avg_bitrate: number | null;
  switches_down: number;
}

async function tenSecondWindow(): Promise<WindowRow[]> {
  return queryRows<WindowRow>(
    ch.client,
    `SELECT oca_id, sum(sessions) AS sessions, sum(attempts) AS attempts, sum(plays) AS plays, sum(ebvs) AS ebvs, sum(vsf) AS vsf,
            sum(startup_ms_sum) / sum(startups) AS startup_mean,
            sum(stall_ms) / (sum(play_ms) + sum(stall_ms)) AS rebuffer_ratio,
            sum(stalls) / ((sum(play_ms) + sum(stall_ms)) / 3600000) AS stalls_per_hour,
            sum(bitrate_kbps_ms) / sum(bitrate_play_ms) AS avg_bitrate,
            sum(switches_down) AS switches_down
     FROM ${ch.database}.qoe_windows FINAL
     WHERE window_sec = 10 AND window_start = toDateTime({t:UInt32})
     GROUP BY oca_id ORDER BY oca_id`,
    { t: T0 / 1000 },
  );
}

describe('qoe processor (real Kafka, registry, ClickHouse)', () => {
  it('writes sessions and exact window aggregates, and a full replay changes nothing', async () => {
    ({ ch } = await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir }));
    await createTopics(config, [topic, dlq], 1);
    const kafka = createKafka(config.kafka);
    const codec = await AvroCodec.register<SessionSummary>(
      createRegistry(config.registry.url),
      topic,
      sessionSchema,
    );
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: [
        ...sessions.map((s) => ({ key: s.sessionId, value: codec.encode(s) })),
        { key: 'poison', value: Buffer.from('not avro at all') },
      ],
    });
    await producer.disconnect();

    await runOnce(uniqueName('qoe'), sessions.length + 1);
    const first = await tenSecondWindow();
    // oca-a: s1, s2, s3. Startup mean (1000 + 3000) / 2 = 2000 ms. Rebuffer ratio
    // 10 000 / (80 000 + 10 000) = 0.1111. Stalls per hour 2 / (90 000 / 3 600 000) = 80.
    // Bitrate (3000 * 50 000 + 1000 * 30 000) / 80 000 = 2250 kbps.
    expect(first).toEqual([
      {
        oca_id: 'oca-a',
        sessions: 3,
        attempts: 3,
        plays: 2,
        ebvs: 1,
        vsf: 0,
        startup_mean: 2_000,
        rebuffer_ratio: 10_000 / 90_000,
        stalls_per_hour: 80,
        avg_bitrate: 2_250,
        switches_down: 1,
      },
      {
        oca_id: 'oca-b',
        sessions: 1,
        attempts: 1,
        plays: 0,
        ebvs: 0,
        vsf: 1,
        startup_mean: null,
        rebuffer_ratio: null,
        stalls_per_hour: null,
        avg_bitrate: null,
        switches_down: 0,
      },
    ]);
    const cells = await queryRows<{ cell: string; sessions: number; ebvs: number }>(
      ch.client,
      `SELECT cell, sum(sessions) AS sessions, sum(ebvs) AS ebvs FROM ${ch.database}.qoe_cells FINAL
       WHERE window_sec = 60 AND experiment_key = 'exp1' GROUP BY cell ORDER BY cell`,
    );
    expect(cells).toEqual([
      { cell: 'control', sessions: 3, ebvs: 0 },
      { cell: 'treatment', sessions: 2, ebvs: 1 },
    ]);

    // The poison record went to the DLQ, not into the numbers.
    const dlqOffsets = await createKafka(config.kafka).admin();
    await dlqOffsets.connect();
    const high = await dlqOffsets.fetchTopicOffsets(dlq);
    await dlqOffsets.disconnect();
    expect(high[0]?.high).toBe('1');

    // Replay everything with a new group: rows are written again, windows recomputed.
    await runOnce(uniqueName('qoe-replay'), sessions.length + 1);
    expect(await tenSecondWindow()).toEqual(first);
    const count = await queryRows<{ n: number }>(
      ch.client,
      `SELECT count() AS n FROM ${ch.database}.sessions FINAL`,
    );
    expect(count[0]?.n).toBe(5);
  });
});
